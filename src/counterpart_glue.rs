//! Starting stub sets for `assure run` and `assure mock`.
//! (Wired to the counterpart room when it lands.)

use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("error: counterparts are not available in this build (wanted `{0}`)")]
    Unavailable(String),
}

impl StartError {
    pub fn exit_code(&self) -> i32 {
        crate::exit_codes::INCOMPLETE
    }
}

pub async fn start(
    _project: &Path,
    name: &str,
) -> Result<(String, Box<dyn std::any::Any>), StartError> {
    Err(StartError::Unavailable(name.to_owned()))
}

pub async fn serve(_project: &Path, name: &str, _port: Option<u16>) -> Result<(), StartError> {
    Err(StartError::Unavailable(name.to_owned()))
}
