//! The S3-compatible evidence store, for deployments whose several servers share the files.
//!
//! Objects are named `sha256/<64 hex digits>` in one bucket. An S3 `PUT` is atomic (the object
//! appears whole or not at all), so no half file is ever visible under a digest; a file already
//! present (`HEAD` answers 200) is not sent again. Requests are signed with AWS Signature V4 as
//! presigned URLs (`rusty-s3`) and sent with `reqwest`; path-style URLs, which every S3-compatible
//! server (MinIO, Ceph, SeaweedFS, moto) answers.

use std::time::Duration;

use ledger_schemas::integrity::Digest;
use reqwest::{StatusCode, Url};
use rusty_s3::{Bucket, Credentials, S3Action as _, UrlStyle};

use super::{EvidenceError, Stored};

/// How long a signed request stays valid: long enough for a slow upload to start.
const SIGNED_FOR: Duration = Duration::from_secs(300);
/// How many times a request the server failed (5xx: S3 answers 500 and 503 under load and asks
/// clients to retry) is sent, in all.
const ATTEMPTS: u32 = 4;

/// Where the bucket is and how to sign in to it.
#[derive(Debug, Clone)]
pub struct S3Config {
    /// The server, e.g. `https://s3.example.internal:9000`.
    pub endpoint: String,
    pub bucket: String,
    pub region: String,
    pub access_key: String,
    pub secret_key: String,
}

/// Evidence files in an S3 bucket.
#[derive(Clone)]
pub struct S3Store {
    bucket: Bucket,
    credentials: Credentials,
    client: reqwest::Client,
}

impl std::fmt::Debug for S3Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("S3Store")
            .field("bucket", &self.bucket.base_url().as_str())
            .finish_non_exhaustive()
    }
}

fn unavailable(e: impl std::fmt::Display) -> EvidenceError {
    EvidenceError::Unavailable(e.to_string())
}

impl S3Store {
    /// The store for `config`; nothing is sent until the first call.
    pub fn new(config: &S3Config) -> Result<Self, EvidenceError> {
        let endpoint: Url = config.endpoint.parse().map_err(|e| {
            EvidenceError::Io(format!(
                "“{}”不是网址 (not a URL): {e}; 例如 e.g. https://s3.example.internal:9000",
                config.endpoint
            ))
        })?;
        let bucket = Bucket::new(
            endpoint,
            UrlStyle::Path,
            config.bucket.clone(),
            config.region.clone(),
        )
        .map_err(|e| EvidenceError::Io(format!("{}: {e}", config.endpoint)))?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .timeout(Duration::from_secs(120))
            .build()
            .map_err(unavailable)?;
        Ok(Self {
            bucket,
            credentials: Credentials::new(&config.access_key, &config.secret_key),
            client,
        })
    }

    /// Sends the request `build` makes, again after a short pause while the server answers 5xx.
    async fn send(
        &self,
        build: impl Fn() -> reqwest::RequestBuilder,
    ) -> Result<reqwest::Response, EvidenceError> {
        let mut attempt = 1;
        loop {
            let reply = build().send().await.map_err(unavailable)?;
            if !reply.status().is_server_error() || attempt == ATTEMPTS {
                return Ok(reply);
            }
            tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
            attempt += 1;
        }
    }

    pub fn describe(&self) -> String {
        self.bucket.base_url().to_string()
    }

    fn key(digest: &Digest) -> String {
        format!("sha256/{}", digest.to_hex())
    }

    /// Creates the bucket (for tests and first set-up); a bucket that exists already is fine.
    pub async fn create_bucket(&self) -> Result<(), EvidenceError> {
        let url = self
            .bucket
            .create_bucket(&self.credentials)
            .sign(SIGNED_FOR);
        // An empty body with its length: some servers refuse a PUT without Content-Length.
        let reply = self
            .send(|| {
                self.client
                    .put(url.clone())
                    .header(reqwest::header::CONTENT_LENGTH, "0")
            })
            .await?;
        match reply.status() {
            s if s.is_success() || s == StatusCode::CONFLICT => Ok(()),
            s => Err(EvidenceError::Io(format!(
                "创建存储桶失败 (creating the bucket failed): HTTP {s}"
            ))),
        }
    }

    async fn exists(&self, key: &str) -> Result<bool, EvidenceError> {
        let url = self
            .bucket
            .head_object(Some(&self.credentials), key)
            .sign(SIGNED_FOR);
        let reply = self.send(|| self.client.head(url.clone())).await?;
        match reply.status() {
            StatusCode::OK => Ok(true),
            StatusCode::NOT_FOUND => Ok(false),
            s => Err(EvidenceError::Io(format!("HEAD {key}: HTTP {s}"))),
        }
    }

    pub async fn put(&self, bytes: &[u8]) -> Result<Stored, EvidenceError> {
        let digest = super::digest(bytes);
        let size = bytes.len() as u64;
        let key = Self::key(&digest);
        if self.exists(&key).await? {
            return Ok(Stored {
                digest,
                size,
                created: false,
            });
        }
        let url = self
            .bucket
            .put_object(Some(&self.credentials), &key)
            .sign(SIGNED_FOR);
        let reply = self
            .send(|| self.client.put(url.clone()).body(bytes.to_vec()))
            .await?;
        if !reply.status().is_success() {
            return Err(EvidenceError::Io(format!(
                "PUT {key}: HTTP {}",
                reply.status()
            )));
        }
        Ok(Stored {
            digest,
            size,
            created: true,
        })
    }

    pub async fn get(&self, digest: &Digest) -> Result<Option<Vec<u8>>, EvidenceError> {
        let key = Self::key(digest);
        let url = self
            .bucket
            .get_object(Some(&self.credentials), &key)
            .sign(SIGNED_FOR);
        let reply = self.send(|| self.client.get(url.clone())).await?;
        match reply.status() {
            StatusCode::OK => Ok(Some(reply.bytes().await.map_err(unavailable)?.to_vec())),
            StatusCode::NOT_FOUND => Ok(None),
            s => Err(EvidenceError::Io(format!("GET {key}: HTTP {s}"))),
        }
    }
}
