//! The reference app on rocket (being written).
