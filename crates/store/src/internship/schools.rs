//! Placeholder of the module `schools`, written in this session.
