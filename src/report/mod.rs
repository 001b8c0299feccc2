//! Reports: one model, rendered by independent writers into `reports/<run-id>/`.

pub mod model;
