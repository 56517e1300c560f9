//! Placeholder of the module `applications`, written in this session.
