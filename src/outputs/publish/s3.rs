//! `s3`: upload the results under a key prefix, then a manifest.
//!
//! `Params`: `Bucket` (required), `Key` (the prefix; may hold placeholders),
//! `Region`, `Endpoint` (a custom endpoint uses path-style addressing).
//! Credentials come from the SDK's default chain, as for S3 inputs. Each
//! result file becomes `<prefix>/<path>`; files larger than
//! [`MULTIPART_THRESHOLD`] go up in parts. `<prefix>/manifest.json`, listing
//! every key with its size and SHA-256, is written last, only when every
//! upload succeeded: a reader that finds the manifest finds the whole result.

use super::Publisher;
use super::{describe_files, entries, expand, needs_partition_suffix};
use super::{ConfigError, Context, Entry, Params, PublishError, Published, PublishedObject};
use crate::s3::{check_endpoint, client, describe, s3_url};
use aws_sdk_s3::primitives::{ByteStream, Length};
use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
use aws_sdk_s3::Client;
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Files larger than this are uploaded in parts.
pub const MULTIPART_THRESHOLD: u64 = 64 << 20;

/// The size of each part of a multipart upload (grown when a file would need more than 10,000).
pub const PART_SIZE: u64 = 16 << 20;

/// S3's limit on parts per upload.
const MAX_PARTS: u64 = 10_000;

/// Most files uploaded at once.
pub const MAX_CONCURRENT: usize = 4;

/// The name of the manifest under the prefix.
pub const MANIFEST: &str = "manifest.json";

/// The S3 publisher.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Publisher {
    /// The bucket.
    pub bucket: String,
    /// The key prefix, possibly with placeholders; empty means the bucket's root.
    pub key: String,
    /// The region.
    pub region: Option<String>,
    /// A custom endpoint URL.
    pub endpoint: Option<String>,
    /// Files larger than this go up in parts.
    pub multipart_threshold: u64,
    /// The size of each part.
    pub part_size: u64,
}

/// `manifest.json`: what one execution published.
#[derive(Debug, Clone, Serialize, serde::Deserialize)]
pub struct Manifest {
    /// brine's version.
    pub brine_version: String,
    /// The job id.
    pub job_id: String,
    /// The execution id.
    pub execution_id: String,
    /// The partition index.
    pub partition_index: u32,
    /// Every uploaded key, with its size and SHA-256.
    pub objects: Vec<PublishedObject>,
}

/// Why an upload to S3 failed.
#[derive(Debug, thiserror::Error)]
pub enum UploadError {
    /// The async runtime the SDK runs on could not start.
    #[error("cannot start the S3 client: {0}")]
    Runtime(#[source] std::io::Error),
    /// The credential chain failed.
    #[error(transparent)]
    Credentials(#[from] crate::s3::CredentialsError),
    /// An upload task ended without an answer (it panicked or was cancelled).
    #[error("an upload task failed: {0}")]
    Task(#[source] tokio::task::JoinError),
    /// A result file could not be opened for upload.
    #[error("{}: {source}", path.display())]
    Open {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// A result file could not be read into a request body.
    #[error("{}: {source}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: aws_sdk_s3::primitives::ByteStreamError,
    },
    /// A request failed; `message` is what S3 or the connection said.
    #[error("{url}: {message}")]
    Request {
        /// The object.
        url: String,
        /// What S3 said, in one line.
        message: String,
    },
    /// A multipart upload started without an id to continue it with.
    #[error("{url}: the server started a multipart upload without an UploadId")]
    NoUploadId {
        /// The object.
        url: String,
    },
    /// A file would need more parts than a part number holds.
    #[error("too many parts")]
    TooManyParts,
    /// One part of a multipart upload failed.
    #[error("part {number}: {message}")]
    Part {
        /// The part number.
        number: i32,
        /// What S3 said.
        message: String,
    },
    /// Completing a multipart upload failed.
    #[error("completing the upload: {message}")]
    Complete {
        /// What S3 said.
        message: String,
    },
    /// A multipart upload failed (and was aborted).
    #[error("{url}: {source}")]
    Multipart {
        /// The object.
        url: String,
        /// Why.
        source: Box<UploadError>,
    },
    /// The manifest could not be serialized.
    #[error("{url}: {source}")]
    Manifest {
        /// The manifest's object.
        url: String,
        /// Why.
        source: serde_json::Error,
    },
}

impl S3Publisher {
    /// Reads Bucket, Key, Region and Endpoint from a publisher's parameters.
    pub fn from_params(params: &Params<'_>) -> Result<Self, ConfigError> {
        params.only("s3", &["Bucket", "Key", "Region", "Endpoint"])?;
        let publisher = S3Publisher {
            bucket: params.required("s3", "Bucket", "the bucket's name")?,
            key: params.string("Key")?.unwrap_or_default(),
            region: params.string("Region")?,
            endpoint: params.string("Endpoint")?,
            multipart_threshold: MULTIPART_THRESHOLD,
            part_size: PART_SIZE,
        };
        if let Some(endpoint) = &publisher.endpoint {
            check_endpoint(endpoint).map_err(ConfigError::Endpoint)?;
        }
        Ok(publisher)
    }

    /// The key prefix partition `cx` publishes under, without a trailing `/`.
    pub fn prefix(&self, cx: &Context) -> String {
        let prefix = expand(&self.key, cx).trim_matches('/').to_string();
        if !needs_partition_suffix(&self.key, cx) {
            return prefix;
        }
        if prefix.is_empty() {
            return cx.partition_index.to_string();
        }
        format!("{prefix}/{}", cx.partition_index)
    }

    async fn upload_all(
        &self,
        client: &Client,
        files: Vec<(PathBuf, String, u64)>,
    ) -> Result<(), UploadError> {
        let mut pending = files.into_iter();
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < MAX_CONCURRENT {
                let Some((path, key, size)) = pending.next() else {
                    break;
                };
                let (client, this) = (client.clone(), self.clone());
                running.spawn(async move { this.upload(&client, &path, &key, size).await });
            }
            match running.join_next().await {
                None => return Ok(()),
                Some(Ok(Ok(()))) => {}
                Some(Ok(Err(e))) => return Err(e),
                Some(Err(e)) => return Err(UploadError::Task(e)),
            }
        }
    }

    async fn upload(
        &self,
        client: &Client,
        path: &Path,
        key: &str,
        size: u64,
    ) -> Result<(), UploadError> {
        if size > self.multipart_threshold {
            return self.upload_multipart(client, path, key, size).await;
        }
        let body = file_body(path, None).await?;
        self.put(client, key, body, Some(size), None).await
    }

    /// One `PutObject` of `body` at `key`.
    async fn put(
        &self,
        client: &Client,
        key: &str,
        body: ByteStream,
        length: Option<u64>,
        content_type: Option<&str>,
    ) -> Result<(), UploadError> {
        client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .set_content_length(length.map(|n| i64::try_from(n).unwrap_or(i64::MAX)))
            .set_content_type(content_type.map(String::from))
            .body(body)
            .send()
            .await
            .map_err(|e| UploadError::Request {
                url: s3_url(&self.bucket, key),
                message: describe(&e),
            })?;
        Ok(())
    }

    async fn upload_multipart(
        &self,
        client: &Client,
        path: &Path,
        key: &str,
        size: u64,
    ) -> Result<(), UploadError> {
        let url = s3_url(&self.bucket, key);
        let created = client
            .create_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| UploadError::Request {
                url: url.clone(),
                message: describe(&e),
            })?;
        let upload_id = created
            .upload_id()
            .ok_or_else(|| UploadError::NoUploadId { url: url.clone() })?
            .to_string();
        let done = match self.upload_parts(client, path, key, &upload_id, size).await {
            Ok(parts) => self.complete(client, key, &upload_id, parts).await,
            Err(e) => Err(e),
        };
        if done.is_err() {
            let _ = client
                .abort_multipart_upload()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(&upload_id)
                .send()
                .await;
        }
        done.map_err(|e| UploadError::Multipart {
            url,
            source: Box::new(e),
        })
    }

    async fn upload_parts(
        &self,
        client: &Client,
        path: &Path,
        key: &str,
        upload_id: &str,
        size: u64,
    ) -> Result<Vec<CompletedPart>, UploadError> {
        let part_size = self.part_size.max(size.div_ceil(MAX_PARTS)).max(1);
        let mut parts = Vec::new();
        let mut offset = 0;
        while offset < size {
            let length = part_size.min(size - offset);
            let number = i32::try_from(parts.len() + 1).map_err(|_| UploadError::TooManyParts)?;
            let body = file_body(path, Some((offset, length))).await?;
            let reply = client
                .upload_part()
                .bucket(&self.bucket)
                .key(key)
                .upload_id(upload_id)
                .part_number(number)
                .content_length(i64::try_from(length).unwrap_or(i64::MAX))
                .body(body)
                .send()
                .await
                .map_err(|e| UploadError::Part {
                    number,
                    message: describe(&e),
                })?;
            let part = CompletedPart::builder()
                .part_number(number)
                .set_e_tag(reply.e_tag().map(String::from))
                .build();
            parts.push(part);
            offset += length;
        }
        Ok(parts)
    }

    async fn complete(
        &self,
        client: &Client,
        key: &str,
        upload_id: &str,
        parts: Vec<CompletedPart>,
    ) -> Result<(), UploadError> {
        let upload = CompletedMultipartUpload::builder()
            .set_parts(Some(parts))
            .build();
        client
            .complete_multipart_upload()
            .bucket(&self.bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(upload)
            .send()
            .await
            .map_err(|e| UploadError::Complete {
                message: describe(&e),
            })?;
        Ok(())
    }

    async fn put_manifest(
        &self,
        client: &Client,
        key: &str,
        manifest: &Manifest,
    ) -> Result<(), UploadError> {
        let text = serde_json::to_vec_pretty(manifest).map_err(|source| UploadError::Manifest {
            url: s3_url(&self.bucket, key),
            source,
        })?;
        let body = ByteStream::from(text);
        self.put(client, key, body, None, Some("application/json"))
            .await
    }

    /// Uploads every file, then the manifest.
    fn send(
        &self,
        files: Vec<(PathBuf, String, u64)>,
        manifest_key: &str,
        manifest: &Manifest,
    ) -> Result<(), UploadError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(UploadError::Runtime)?;
        runtime.block_on(async {
            let client = client(self.region.as_deref(), self.endpoint.as_deref()).await?;
            self.upload_all(&client, files).await?;
            self.put_manifest(&client, manifest_key, manifest).await
        })
    }
}

/// A result file as a request body, whole or `(offset, length)` of it; the
/// file is opened without following a link (see [`super::open_result`]).
async fn file_body(path: &Path, range: Option<(u64, u64)>) -> Result<ByteStream, UploadError> {
    let file = super::open_result(path).map_err(|source| UploadError::Open {
        path: path.to_path_buf(),
        source,
    })?;
    let mut body = ByteStream::read_from().file(tokio::fs::File::from_std(file));
    if let Some((offset, length)) = range {
        body = body.offset(offset).length(Length::Exact(length));
    }
    body.build().await.map_err(|source| UploadError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// `prefix/name`, or `name` at the bucket's root.
fn join_key(prefix: &str, name: &str) -> String {
    if prefix.is_empty() {
        name.to_string()
    } else {
        format!("{prefix}/{name}")
    }
}

impl Publisher for S3Publisher {
    fn publish(&self, results: &Path, cx: &Context) -> Result<Option<Published>, PublishError> {
        let prefix = self.prefix(cx);
        let location = s3_url(&self.bucket, &join_key(&prefix, ""));
        let io = |source| PublishError::Io {
            location: location.clone(),
            path: results.to_path_buf(),
            source,
        };
        let found: Vec<Entry> = entries(results).map_err(io)?;
        let objects = describe_files(&found, |e| join_key(&prefix, &e.name)).map_err(io)?;
        let files = found
            .iter()
            .filter(|e| !e.is_dir)
            .zip(&objects)
            .map(|(e, o)| (e.path.clone(), o.name.clone(), o.size))
            .collect();
        let manifest = Manifest {
            brine_version: env!("CARGO_PKG_VERSION").to_string(),
            job_id: cx.job_id.clone(),
            execution_id: cx.execution_id.clone(),
            partition_index: cx.partition_index,
            objects: objects.clone(),
        };
        self.send(files, &join_key(&prefix, MANIFEST), &manifest)
            .map_err(|source| PublishError::Upload {
                location: location.clone(),
                source,
            })?;
        Ok(Some(Published {
            kind: "s3".into(),
            location,
            objects,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn publisher(key: &str) -> S3Publisher {
        S3Publisher {
            bucket: "b".into(),
            key: key.into(),
            region: None,
            endpoint: None,
            multipart_threshold: MULTIPART_THRESHOLD,
            part_size: PART_SIZE,
        }
    }

    fn cx(count: u32) -> Context {
        Context {
            job_id: "j".into(),
            execution_id: "e".into(),
            partition_index: 1,
            partition_count: count,
        }
    }

    #[test]
    fn prefixes_lose_their_slashes_and_gain_partitions() {
        assert_eq!(publisher("out/").prefix(&cx(1)), "out");
        assert_eq!(publisher("").prefix(&cx(1)), "");
        assert_eq!(publisher("out").prefix(&cx(3)), "out/1");
        assert_eq!(publisher("").prefix(&cx(3)), "1");
        assert_eq!(publisher("r/{jobID}/{executionID}").prefix(&cx(3)), "r/j/e");
        assert_eq!(join_key("", MANIFEST), "manifest.json");
        assert_eq!(join_key("a/b", "stdout"), "a/b/stdout");
    }
}
