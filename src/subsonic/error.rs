//! Subsonic errors: one exhaustive mapping from what went wrong to the protocol's codes.
//! The cause of an internal error is logged, never sent.

/// Everything a Subsonic call can fail with.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("Required parameter is missing: {0}")]
    MissingParam(&'static str),
    #[error("Invalid value for parameter {0}")]
    BadParam(&'static str),
    #[error("Wrong username or password")]
    WrongCredentials,
    #[error("Provided authentication mechanism not supported")]
    MechanismNotSupported,
    #[error("Multiple conflicting authentication mechanisms provided")]
    ConflictingAuth,
    #[error("Invalid API key")]
    InvalidApiKey,
    #[error("User is not authorized for the given operation")]
    NotAuthorized,
    #[error("{0} not found")]
    NotFound(&'static str),
    #[error("Unknown API method: {0}")]
    UnknownMethod(String),
    /// A request that is well-formed but cannot be carried out; the message says why.
    #[error("{0}")]
    Refused(String),
    #[error("Internal server error")]
    Internal(String),
}

impl ApiError {
    /// The Subsonic error code.
    pub fn code(&self) -> i32 {
        match self {
            ApiError::MissingParam(_) => 10,
            ApiError::WrongCredentials => 40,
            ApiError::MechanismNotSupported => 42,
            ApiError::ConflictingAuth => 43,
            ApiError::InvalidApiKey => 44,
            ApiError::NotAuthorized => 50,
            ApiError::NotFound(_) => 70,
            ApiError::BadParam(_)
            | ApiError::UnknownMethod(_)
            | ApiError::Refused(_)
            | ApiError::Internal(_) => 0,
        }
    }
}

impl From<diesel::result::Error> for ApiError {
    fn from(e: diesel::result::Error) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<diesel::r2d2::PoolError> for ApiError {
    fn from(e: diesel::r2d2::PoolError) -> Self {
        ApiError::Internal(e.to_string())
    }
}

impl From<actix_web::error::BlockingError> for ApiError {
    fn from(e: actix_web::error::BlockingError) -> Self {
        ApiError::Internal(e.to_string())
    }
}
