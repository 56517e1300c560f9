//! Placeholder of the module `partners`, written in this session.
