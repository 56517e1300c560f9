//! Placeholder of the module `signatures`, written in this session.
