//! Placeholder of the module `hosts`, written in this session.
