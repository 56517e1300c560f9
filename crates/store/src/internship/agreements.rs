//! Placeholder of the module `agreements`, written in this session.
