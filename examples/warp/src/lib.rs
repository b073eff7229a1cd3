//! The reference app on warp (being written).
