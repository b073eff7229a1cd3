//! The reference app on actix (being written).
