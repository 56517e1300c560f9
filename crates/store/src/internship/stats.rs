//! Placeholder of the module `stats`, written in this session.
