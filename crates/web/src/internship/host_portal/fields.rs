//! The form pieces shared by the hosts' pages and the département's: a text input as the
//! templates draw it (`Input`: label, typed value, limit, help and refusal), the choices of a
//! select or a group of boxes (`Choice`), and the host and person forms read from a submitted
//! body and turned into inputs with their refusals next to them.

use store::internship::hosts::{
    FieldErrors, HostField, HostForm, MAX_DETAIL_CHARS, MAX_EMAIL_BYTES, MAX_HOST_NAME_CHARS,
    MAX_PHONE_CHARS, PersonForm,
};

use crate::form::Fields;

/// One text input of a form.
pub(crate) struct Input {
    pub(crate) name: &'static str,
    pub(crate) label: &'static str,
    pub(crate) value: String,
    pub(crate) error: Option<String>,
    /// `text`, `email`, `tel`, `password`, `number`.
    pub(crate) kind: &'static str,
    pub(crate) max: usize,
    pub(crate) required: bool,
    pub(crate) hint: Option<&'static str>,
    pub(crate) autocomplete: &'static str,
}

impl Input {
    pub(crate) fn text(name: &'static str, label: &'static str, value: &str, max: usize) -> Input {
        Input {
            name,
            label,
            value: value.to_owned(),
            error: None,
            kind: "text",
            max,
            required: true,
            hint: None,
            autocomplete: "",
        }
    }

    pub(crate) fn kind(mut self, kind: &'static str) -> Input {
        self.kind = kind;
        self
    }

    pub(crate) fn optional(mut self) -> Input {
        self.required = false;
        self
    }

    pub(crate) fn hint(mut self, hint: &'static str) -> Input {
        self.hint = Some(hint);
        self
    }

    pub(crate) fn autocomplete(mut self, autocomplete: &'static str) -> Input {
        self.autocomplete = autocomplete;
        self
    }

    pub(crate) fn error(mut self, error: Option<String>) -> Input {
        self.error = error;
        self
    }
}

/// One option of a select, radio group or group of boxes.
pub(crate) struct Choice {
    pub(crate) value: String,
    pub(crate) label: String,
    pub(crate) checked: bool,
}

/// The refusals of one field, joined.
pub(crate) fn error_for<F: PartialEq + Copy>(errors: &FieldErrors<F>, field: F) -> Option<String> {
    let reasons: Vec<&str> =
        errors.iter().filter(|(f, _)| *f == field).map(|(_, r)| r.as_str()).collect();
    (!reasons.is_empty()).then(|| reasons.join(" "))
}

/// The organisation's fields of a submitted form.
pub(crate) fn host_form_from(fields: &Fields) -> HostForm {
    HostForm {
        name: fields.get("nom_organisme").to_owned(),
        siret: fields.get("siret").to_owned(),
        kind: fields.get("type").to_owned(),
        street: fields.get("rue").to_owned(),
        postal_code: fields.get("code_postal").to_owned(),
        city: fields.get("commune").to_owned(),
        contact_name: fields.get("contact_nom").to_owned(),
        contact_email: fields.get("contact_courriel").to_owned(),
        contact_phone: fields.get("contact_telephone").to_owned(),
        representative_name: fields.get("representant_nom").to_owned(),
        representative_role: fields.get("representant_fonction").to_owned(),
    }
}

/// The person's fields of a submitted form.
pub(crate) fn person_form_from(fields: &Fields) -> PersonForm {
    PersonForm {
        last_name: fields.get("nom").to_owned(),
        first_name: fields.get("prenom").to_owned(),
        email: fields.get("courriel").to_owned(),
    }
}

/// The organisation's inputs (the SIRET only when it may be typed).
pub(crate) fn host_inputs(
    form: &HostForm,
    errors: &FieldErrors<HostField>,
    with_siret: bool,
) -> Vec<Input> {
    use HostField as F;
    let e = |field| error_for(errors, field);
    let mut inputs = vec![
        Input::text("nom_organisme", "Nom de l'organisme", &form.name, MAX_HOST_NAME_CHARS)
            .autocomplete("organization")
            .error(e(F::Name)),
    ];
    if with_siret {
        inputs.push(
            Input::text("siret", "Numéro SIRET", &form.siret, 20)
                .hint("Les 14 chiffres de l'établissement, avec ou sans espaces.")
                .error(e(F::Siret)),
        );
    }
    inputs.extend([
        Input::text("rue", "Adresse (numéro et rue)", &form.street, MAX_DETAIL_CHARS)
            .autocomplete("address-line1")
            .error(e(F::Street)),
        Input::text("code_postal", "Code postal", &form.postal_code, 5)
            .autocomplete("postal-code")
            .error(e(F::PostalCode)),
        Input::text("commune", "Commune", &form.city, MAX_DETAIL_CHARS)
            .autocomplete("address-level2")
            .error(e(F::City)),
        Input::text("contact_nom", "Personne à contacter", &form.contact_name, MAX_DETAIL_CHARS)
            .error(e(F::ContactName)),
        Input::text(
            "contact_courriel",
            "Adresse électronique de contact",
            &form.contact_email,
            MAX_EMAIL_BYTES,
        )
        .kind("email")
        .error(e(F::ContactEmail)),
        Input::text("contact_telephone", "Téléphone", &form.contact_phone, MAX_PHONE_CHARS)
            .kind("tel")
            .optional()
            .error(e(F::ContactPhone)),
        Input::text(
            "representant_nom",
            "Représentant légal (signataire des conventions)",
            &form.representative_name,
            MAX_DETAIL_CHARS,
        )
        .error(e(F::RepresentativeName)),
        Input::text(
            "representant_fonction",
            "Fonction du représentant",
            &form.representative_role,
            MAX_DETAIL_CHARS,
        )
        .error(e(F::RepresentativeRole)),
    ]);
    inputs
}

/// The person's inputs.
pub(crate) fn person_inputs(form: &PersonForm, errors: &FieldErrors<HostField>) -> Vec<Input> {
    let e = |field| error_for(errors, field);
    let max_name = domain::names::MAX_NAME_CHARS;
    vec![
        Input::text("nom", "Nom", &form.last_name, max_name)
            .autocomplete("family-name")
            .error(e(HostField::LastName)),
        Input::text("prenom", "Prénom", &form.first_name, max_name)
            .autocomplete("given-name")
            .error(e(HostField::FirstName)),
        Input::text("courriel", "Adresse électronique", &form.email, MAX_EMAIL_BYTES)
            .kind("email")
            .autocomplete("email")
            .error(e(HostField::Email)),
    ]
}

/// The kinds of organisation, the typed one checked.
pub(crate) fn kind_choices(selected: &str) -> Vec<Choice> {
    domain::internship::HostKind::ALL
        .into_iter()
        .map(|kind| Choice {
            value: kind.as_str().to_owned(),
            label: kind.label_fr().to_owned(),
            checked: kind.as_str() == selected,
        })
        .collect()
}

/// An instant as `dd/mm/yyyy`, Europe/Paris.
pub(crate) fn paris_date(unix: i64) -> String {
    let Ok(timestamp) = jiff::Timestamp::from_second(unix) else { return String::new() };
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC);
    timestamp.to_zoned_datetime(zone).strftime("%d/%m/%Y").to_string()
}
