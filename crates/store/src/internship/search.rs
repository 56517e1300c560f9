//! Placeholder of the module `search`, written in this session.
