//! Bounds-checked access to guest linear memory.
//!
//! Every pointer/length pair a guest passes to a WASI function goes through
//! these helpers: a range that does not fit in memory is `EFAULT`, never a panic.
//! Values are little-endian, as WebAssembly defines them.

use super::errno::{Errno, WasiResult};

/// The guest byte range `[ptr, ptr + len)`, checked against the memory size.
pub fn range(mem: &[u8], ptr: u32, len: u32) -> WasiResult<std::ops::Range<usize>> {
    let start = ptr as usize;
    let end = start.checked_add(len as usize).ok_or(Errno::Fault)?;
    if end > mem.len() {
        return Err(Errno::Fault);
    }
    Ok(start..end)
}

/// Borrows `len` guest bytes at `ptr`.
pub fn slice(mem: &[u8], ptr: u32, len: u32) -> WasiResult<&[u8]> {
    let r = range(mem, ptr, len)?;
    Ok(&mem[r])
}

/// Mutably borrows `len` guest bytes at `ptr`.
pub fn slice_mut(mem: &mut [u8], ptr: u32, len: u32) -> WasiResult<&mut [u8]> {
    let r = range(mem, ptr, len)?;
    Ok(&mut mem[r])
}

/// Reads a fixed-size array of guest bytes at `ptr`.
fn read_array<const N: usize>(mem: &[u8], ptr: u32) -> WasiResult<[u8; N]> {
    let bytes = slice(mem, ptr, N as u32)?;
    let mut out = [0u8; N];
    out.copy_from_slice(bytes);
    Ok(out)
}

/// Reads a little-endian `u32` at `ptr`.
pub fn read_u32(mem: &[u8], ptr: u32) -> WasiResult<u32> {
    read_array::<4>(mem, ptr).map(u32::from_le_bytes)
}

/// Reads a little-endian `u64` at `ptr`.
pub fn read_u64(mem: &[u8], ptr: u32) -> WasiResult<u64> {
    read_array::<8>(mem, ptr).map(u64::from_le_bytes)
}

/// Writes `bytes` at `ptr`.
pub fn write_bytes(mem: &mut [u8], ptr: u32, bytes: &[u8]) -> WasiResult<()> {
    let len = u32::try_from(bytes.len()).map_err(|_| Errno::Fault)?;
    slice_mut(mem, ptr, len)?.copy_from_slice(bytes);
    Ok(())
}

/// Writes a little-endian `u8` at `ptr`.
pub fn write_u8(mem: &mut [u8], ptr: u32, value: u8) -> WasiResult<()> {
    write_bytes(mem, ptr, &[value])
}

/// Writes a little-endian `u16` at `ptr`.
pub fn write_u16(mem: &mut [u8], ptr: u32, value: u16) -> WasiResult<()> {
    write_bytes(mem, ptr, &value.to_le_bytes())
}

/// Writes a little-endian `u32` at `ptr`.
pub fn write_u32(mem: &mut [u8], ptr: u32, value: u32) -> WasiResult<()> {
    write_bytes(mem, ptr, &value.to_le_bytes())
}

/// Writes a little-endian `u64` at `ptr`.
pub fn write_u64(mem: &mut [u8], ptr: u32, value: u64) -> WasiResult<()> {
    write_bytes(mem, ptr, &value.to_le_bytes())
}

/// Reads a guest string (not NUL-terminated) as UTF-8; invalid UTF-8 is `EILSEQ`.
pub fn read_str(mem: &[u8], ptr: u32, len: u32) -> WasiResult<&str> {
    std::str::from_utf8(slice(mem, ptr, len)?).map_err(|_| Errno::Ilseq)
}

/// One `iovec`/`ciovec` entry of a guest scatter/gather list: `{ buf: u32, buf_len: u32 }`.
pub fn read_iovec(mem: &[u8], iovs: u32, index: u32) -> WasiResult<(u32, u32)> {
    let entry = index
        .checked_mul(8)
        .and_then(|off| iovs.checked_add(off))
        .ok_or(Errno::Fault)?;
    let buf = read_u32(mem, entry)?;
    let len = read_u32(mem, entry.checked_add(4).ok_or(Errno::Fault)?)?;
    Ok((buf, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn out_of_bounds_is_fault() {
        let mem = vec![0u8; 16];
        assert_eq!(read_u32(&mem, 13), Err(Errno::Fault));
        assert_eq!(read_u32(&mem, u32::MAX), Err(Errno::Fault));
        assert_eq!(slice(&mem, 16, 0).map(<[u8]>::len), Ok(0));
        assert_eq!(slice(&mem, 17, 0).map(<[u8]>::len), Err(Errno::Fault));
    }

    #[test]
    fn round_trips_little_endian() {
        let mut mem = vec![0u8; 16];
        write_u64(&mut mem, 8, 0x0102_0304_0506_0708).unwrap();
        assert_eq!(mem[8], 0x08);
        assert_eq!(read_u64(&mem, 8), Ok(0x0102_0304_0506_0708));
        assert_eq!(read_iovec(&mem, 8, 0), Ok((0x0506_0708, 0x0102_0304)));
        assert_eq!(read_iovec(&mem, 8, u32::MAX), Err(Errno::Fault));
    }
}
