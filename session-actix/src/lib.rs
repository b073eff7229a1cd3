//! actix adapter for [`session_core`] (being written).
