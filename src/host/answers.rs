//! How host answers are stored in a journal: each result type knows its
//! [`Answer`] form, so the recording host can write it and the replaying host
//! can read it back.

use super::{DirEntry, Filestat, Opened};
use crate::host::abi::WasiResult;
use crate::host::journal::{from_hex, Answer};
use crate::text::hex;

/// A host call's result value, as a journal stores it.
pub trait Record: Sized {
    /// The answer that stores `self`.
    fn to_answer(&self) -> Answer;
    /// `self` back from an answer (`None` if the answer is of another kind).
    fn from_answer(answer: &Answer) -> Option<Self>;
}

impl Record for () {
    fn to_answer(&self) -> Answer {
        Answer::Done
    }
    fn from_answer(answer: &Answer) -> Option<Self> {
        matches!(answer, Answer::Done).then_some(())
    }
}

impl Record for bool {
    fn to_answer(&self) -> Answer {
        Answer::Number(u64::from(*self))
    }
    fn from_answer(answer: &Answer) -> Option<Self> {
        match answer {
            Answer::Number(n) => Some(*n != 0),
            _ => None,
        }
    }
}

impl Record for u64 {
    fn to_answer(&self) -> Answer {
        Answer::Number(*self)
    }
    fn from_answer(answer: &Answer) -> Option<Self> {
        match answer {
            Answer::Number(n) => Some(*n),
            _ => None,
        }
    }
}

impl Record for usize {
    fn to_answer(&self) -> Answer {
        Answer::Number(*self as u64)
    }
    fn from_answer(answer: &Answer) -> Option<Self> {
        u64::from_answer(answer).and_then(|n| usize::try_from(n).ok())
    }
}

impl Record for Vec<u8> {
    fn to_answer(&self) -> Answer {
        Answer::Bytes(hex(self))
    }
    fn from_answer(answer: &Answer) -> Option<Self> {
        match answer {
            Answer::Bytes(hex) => from_hex(hex),
            _ => None,
        }
    }
}

/// Structured values go through serde.
macro_rules! record_as_value {
    ($($ty:ty),*) => {$(
        impl Record for $ty {
            fn to_answer(&self) -> Answer {
                serde_json::to_value(self).map_or(Answer::Done, Answer::Value)
            }
            fn from_answer(answer: &Answer) -> Option<Self> {
                match answer {
                    Answer::Value(v) => serde_json::from_value(v.clone()).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
record_as_value!(Filestat, Vec<DirEntry>, Opened);

/// The answer that stores a host result.
pub fn answer_of<T: Record>(result: &WasiResult<T>) -> Answer {
    match result {
        Ok(value) => value.to_answer(),
        Err(errno) => Answer::Errno(*errno as u16),
    }
}
