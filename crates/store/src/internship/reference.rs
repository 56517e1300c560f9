//! Placeholder of the module `reference`, written in this session.
