//! The web interface (placeholder while the helpers build it).
