//! The bytes of uploaded files, kept apart from the database behind `object_store`: a folder on
//! the server's disk by default, or an S3-compatible bucket. Files are stored under internal keys
//! (generated ids, ASVS 5.3.2), never under a name a person typed, so no upload can choose where
//! it lands. What a file is and who may read it is the database's business (attachments); this
//! module only puts, gets and deletes bytes.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::{ClientOptions, ObjectStore, ObjectStoreExt, PutPayload, RetryConfig};

/// Longest key accepted.
pub const MAX_KEY_LEN: usize = 128;

/// Where an S3-compatible store is and how to sign in to it. Credentials are required: without
/// them the client would look for cloud instance credentials, which Préau never wants.
#[derive(Clone, PartialEq, Eq)]
pub struct S3Config {
    /// The service's address, e.g. `https://s3.example.fr` (the bucket goes in the path).
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: String,
    /// Accept a plain `http://` endpoint (a test server or a store on the same host).
    pub allow_http: bool,
}

impl fmt::Debug for S3Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("S3Config")
            .field("endpoint", &self.endpoint)
            .field("bucket", &self.bucket)
            .field("region", &self.region)
            .field("access_key_id", &self.access_key_id)
            .field("secret_access_key", &"[caché]")
            .field("allow_http", &self.allow_http)
            .finish()
    }
}

/// Errors of the file store. The messages are French and safe to show; the cause of `Backend`
/// is its `source()`, for the log.
#[derive(Debug, thiserror::Error)]
pub enum FileStoreError {
    /// The key is not one Préau generates (only ASCII letters, digits and `-`).
    #[error("Identifiant de fichier invalide.")]
    InvalidKey,
    #[error("Fichier introuvable.")]
    NotFound,
    /// The local folder cannot be created or used.
    #[error("Le dossier des fichiers {} est inutilisable.", dir.display())]
    Folder {
        dir: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The configuration is incomplete or refused by the client; the text says what.
    #[error("Configuration du stockage des fichiers invalide : {0}")]
    Config(String),
    #[error("Le stockage des fichiers est indisponible.")]
    Backend(#[source] object_store::Error),
}

impl From<object_store::Error> for FileStoreError {
    fn from(error: object_store::Error) -> Self {
        match error {
            object_store::Error::NotFound { .. } => FileStoreError::NotFound,
            error => FileStoreError::Backend(error),
        }
    }
}

/// The place files are kept. Cheap to clone.
#[derive(Clone)]
pub struct FileStore {
    inner: Arc<dyn ObjectStore>,
    kind: &'static str,
}

impl fmt::Debug for FileStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "FileStore({})", self.kind)
    }
}

impl FileStore {
    /// Files in the folder `dir` (created if missing), one file per key, written to a temporary
    /// file then renamed, and synced to disk.
    ///
    /// # Errors
    /// `Folder` when the folder cannot be created or resolved.
    pub fn local(dir: &Path) -> Result<FileStore, FileStoreError> {
        let folder_error = |source| FileStoreError::Folder { dir: dir.to_path_buf(), source };
        std::fs::create_dir_all(dir).map_err(folder_error)?;

        let store = LocalFileSystem::new_with_prefix(dir)
            .map_err(|error| folder_error(std::io::Error::other(error)))?
            .with_fsync(true);
        Ok(FileStore { inner: Arc::new(store), kind: "local" })
    }

    /// Files in an S3-compatible bucket, addressed in path style under `config.endpoint`.
    /// Requests give up after 30 s, retries after 15 s.
    ///
    /// # Errors
    /// `Config` when a field is missing or the endpoint is not accepted.
    pub fn s3(config: &S3Config) -> Result<FileStore, FileStoreError> {
        let required = [
            (&config.endpoint, "l'adresse (endpoint) manque"),
            (&config.bucket, "le nom du compartiment (bucket) manque"),
            (&config.access_key_id, "l'identifiant de clé d'accès manque"),
            (&config.secret_access_key, "la clé secrète manque"),
        ];
        for (value, missing) in required {
            if value.trim().is_empty() {
                return Err(FileStoreError::Config(missing.to_owned()));
            }
        }

        let client = ClientOptions::new()
            .with_allow_http(config.allow_http)
            .with_connect_timeout(Duration::from_secs(5))
            .with_timeout(Duration::from_secs(30));
        let retry = RetryConfig {
            max_retries: 2,
            retry_timeout: Duration::from_secs(15),
            ..RetryConfig::default()
        };
        let mut builder = AmazonS3Builder::new()
            .with_endpoint(config.endpoint.trim())
            .with_bucket_name(config.bucket.trim())
            .with_access_key_id(&config.access_key_id)
            .with_secret_access_key(&config.secret_access_key)
            .with_virtual_hosted_style_request(false)
            .with_allow_http(config.allow_http)
            .with_client_options(client)
            .with_retry(retry);
        if !config.region.trim().is_empty() {
            builder = builder.with_region(config.region.trim());
        }
        let store = builder.build().map_err(|error| FileStoreError::Config(error.to_string()))?;
        Ok(FileStore { inner: Arc::new(store), kind: "s3" })
    }

    /// A new key for a file about to be stored (a UUIDv7, so keys never collide).
    pub fn new_key() -> String {
        crate::new_id()
    }

    /// Stores `bytes` under `key`, replacing what was there.
    ///
    /// # Errors
    /// `InvalidKey`, or `Backend` when the store fails (a missing bucket included).
    pub async fn put(&self, key: &str, bytes: Vec<u8>) -> Result<(), FileStoreError> {
        let location = location(key)?;
        match self.inner.put(&location, PutPayload::from(bytes)).await {
            Ok(_) => Ok(()),
            Err(error) => Err(FileStoreError::Backend(error)),
        }
    }

    /// The bytes stored under `key`.
    ///
    /// # Errors
    /// `InvalidKey`, `NotFound`, or `Backend` when the store fails.
    pub async fn get(&self, key: &str) -> Result<Vec<u8>, FileStoreError> {
        let location = location(key)?;
        let found = self.inner.get(&location).await?;
        Ok(found.bytes().await?.to_vec())
    }

    /// Removes what is stored under `key`; removing a missing file succeeds (as on S3).
    ///
    /// # Errors
    /// `InvalidKey`, or `Backend` when the store fails.
    pub async fn delete(&self, key: &str) -> Result<(), FileStoreError> {
        let location = location(key)?;
        match self.inner.delete(&location).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(error) => Err(FileStoreError::Backend(error)),
        }
    }
}

/// Whether `key` is one Préau could have generated: 1 to `MAX_KEY_LEN` ASCII letters, digits or
/// hyphens, so it can never name a folder, a parent or a hidden file.
pub fn is_valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= MAX_KEY_LEN
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

fn location(key: &str) -> Result<object_store::path::Path, FileStoreError> {
    if !is_valid_key(key) {
        return Err(FileStoreError::InvalidKey);
    }
    Ok(object_store::path::Path::from(key))
}
