//! Reading and writing the outside world's formats: the ministry's AAF exports (`aaf`), the
//! timetable exports and iCalendar feeds (`timetable`), message bodies and attachments
//! (`rich_text`, `attachment`), the CSV exports Préau hands to schools (`csv_export`), and the
//! internship platform's reference lists (`internship_reference`: sectors and communes).
//! Nothing here touches the database: readers turn bytes into typed records that carry the file,
//! line and record id they came from.

pub mod aaf;
pub mod agreement_pdf;
pub mod attachment;
pub mod csv_export;
pub mod internship_reference;
pub mod rich_text;
pub mod timetable;
