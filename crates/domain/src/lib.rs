//! The rules of the département's directory, free of any input or output: who a person is
//! (profiles), how a login is derived from a name, what a password must be, the limits a name or
//! identifier must respect, the communication rules, the calendar arithmetic of timetables, and
//! the URL and ticket rules of single sign-on, and the rules of the 3e internship platform. Nothing here knows SQL, HTTP, files or async; the
//! other crates parse into these types at their edges and rely on them afterwards.

pub mod activation;
pub mod communication;
pub mod files;
pub mod internship;
pub mod login;
pub mod names;
pub mod password;
pub mod profile;
pub mod sso;
pub mod time_zone;
pub mod timetable;
