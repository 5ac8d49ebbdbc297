//! Staging an input once for every partition of a job.
//!
//! A job with `Count: N` plans N executions over the same inputs. Fetched
//! inputs (downloads, S3, inline) are read-only, so the first partition to
//! need one stages it and the others mount the same staged copy: one download
//! instead of N. A failure is shared too, so every partition reports it.

use super::{InputSource, SourceError, StageArea, Staged};
use std::sync::{Arc, Mutex};

/// Wraps a source so that it is staged at most once.
#[derive(Debug)]
pub struct StagedOnce {
    inner: Arc<dyn InputSource>,
    result: Mutex<Option<Result<Staged, Arc<SourceError>>>>,
}

impl StagedOnce {
    /// Shares `inner`'s staging between every caller.
    pub fn new(inner: Arc<dyn InputSource>) -> Self {
        StagedOnce {
            inner,
            result: Mutex::new(None),
        }
    }
}

impl InputSource for StagedOnce {
    fn describe(&self) -> String {
        self.inner.describe()
    }

    fn stage(&self, area: &StageArea, index: usize, target: &str) -> Result<Staged, SourceError> {
        let failed = |message: String| SourceError::Invalid {
            target: target.to_string(),
            message,
        };
        // The lock is held while staging: the other partitions wait for the one copy.
        let mut slot = self
            .result
            .lock()
            .map_err(|_| failed("a partition failed while staging this input".to_string()))?;
        if slot.is_none() {
            let staged = self.inner.stage(area, index, target).map_err(Arc::new);
            *slot = Some(staged);
        }
        match slot.as_ref() {
            Some(Ok(staged)) => Ok(staged.clone()),
            Some(Err(error)) => Err(SourceError::Shared(Arc::clone(error))),
            None => Err(failed("the input was not staged".to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[derive(Debug, Default)]
    struct Counting(AtomicUsize);

    impl InputSource for Counting {
        fn describe(&self) -> String {
            "counting".to_string()
        }

        fn stage(
            &self,
            area: &StageArea,
            index: usize,
            _target: &str,
        ) -> Result<Staged, SourceError> {
            self.0.fetch_add(1, Ordering::SeqCst);
            Ok(Staged {
                host_path: area.input_path(index, ".bin"),
                read_only: true,
            })
        }
    }

    #[test]
    fn stages_once_for_every_caller() {
        let counting = Arc::new(Counting::default());
        let once = StagedOnce::new(counting.clone());
        let a = StageArea::new("/tmp/a".into());
        let b = StageArea::new("/tmp/b".into());
        let first = once.stage(&a, 0, "/in").unwrap();
        let second = once.stage(&b, 0, "/in").unwrap();
        assert_eq!(first, second);
        assert_eq!(counting.0.load(Ordering::SeqCst), 1);
    }
}
