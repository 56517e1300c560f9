//! Placeholder of the module `offers`, written in this session.
