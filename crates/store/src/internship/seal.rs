//! Placeholder of the module `seal`, written in this session.
