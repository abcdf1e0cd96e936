//! SQLite's C API for the reads that visit hundreds of thousands of rows (the analytics
//! mirror's feed, term rows), where sqlx's cost of about 2.5 µs a row dominated.

use std::ffi::{CStr, CString};
use std::marker::PhantomData;

use libsqlite3_sys as ffi;

use pulso_sql::{Bind, Statement};
use pulso_store::StoreError;

/// A connection handle, valid while the pooled connection it came from is locked.
#[derive(Clone, Copy)]
pub struct RawDb(pub *mut ffi::sqlite3);

/// One row as SQLite's C API returns it, valid until its statement steps again.
pub struct RawRow<'a> {
    statement: *mut ffi::sqlite3_stmt,
    _cursor: PhantomData<&'a mut Cursor>,
}

impl RawRow<'_> {
    pub fn int(&self, column: i32) -> i64 {
        // SAFETY: the statement is live and positioned on a row while the callback runs.
        unsafe { ffi::sqlite3_column_int64(self.statement, column) }
    }

    pub fn is_null(&self, column: i32) -> bool {
        // SAFETY: as above.
        unsafe { ffi::sqlite3_column_type(self.statement, column) == ffi::SQLITE_NULL }
    }

    pub fn real(&self, column: i32) -> Option<f64> {
        // SAFETY: as above.
        (!self.is_null(column))
            .then(|| unsafe { ffi::sqlite3_column_double(self.statement, column) })
    }

    /// Text or blob bytes; valid until the next row.
    pub fn bytes(&self, column: i32) -> &[u8] {
        // SAFETY: as above; SQLite keeps the buffer until the statement steps again, and the
        // returned slice cannot outlive `self`, which lives for one callback.
        unsafe {
            let data = ffi::sqlite3_column_blob(self.statement, column);
            let len = ffi::sqlite3_column_bytes(self.statement, column);
            if data.is_null() || len <= 0 {
                &[]
            } else {
                std::slice::from_raw_parts(data.cast::<u8>(), len as usize)
            }
        }
    }

    pub fn text(&self, column: i32) -> Option<&str> {
        (!self.is_null(column)).then(|| std::str::from_utf8(self.bytes(column)).unwrap_or(""))
    }
}

pub fn error(db: RawDb, what: &str) -> StoreError {
    // SAFETY: `db` is the live connection the failing call used.
    let message = unsafe {
        CStr::from_ptr(ffi::sqlite3_errmsg(db.0))
            .to_string_lossy()
            .into_owned()
    };
    StoreError::Query(format!("{what}: {message}").into())
}

/// A prepared statement stepped by hand, so that two can be read side by side (a merge of
/// two ordered results). Finalized when dropped.
pub struct Cursor {
    db: RawDb,
    raw: *mut ffi::sqlite3_stmt,
}

impl Cursor {
    pub fn prepare(db: RawDb, statement: &Statement) -> Result<Self, StoreError> {
        let sql = CString::new(statement.sql.as_str()).map_err(StoreError::query)?;
        let mut raw: *mut ffi::sqlite3_stmt = std::ptr::null_mut();
        // SAFETY: `db` is a live connection whose lock the caller holds.
        let rc = unsafe {
            ffi::sqlite3_prepare_v2(db.0, sql.as_ptr(), -1, &mut raw, std::ptr::null_mut())
        };
        if rc != ffi::SQLITE_OK {
            return Err(error(db, "prepare"));
        }
        let cursor = Self { db, raw };
        for (i, bind) in statement.binds.iter().enumerate() {
            let index = i as i32 + 1;
            // SAFETY: `raw` is the statement just prepared; SQLITE_TRANSIENT makes SQLite copy
            // the text before this call returns.
            let rc = unsafe {
                match bind {
                    Bind::Int(v) => ffi::sqlite3_bind_int64(raw, index, *v),
                    Bind::Real(v) => ffi::sqlite3_bind_double(raw, index, *v),
                    Bind::Text(v) => ffi::sqlite3_bind_text(
                        raw,
                        index,
                        v.as_ptr().cast(),
                        v.len() as i32,
                        ffi::SQLITE_TRANSIENT(),
                    ),
                }
            };
            if rc != ffi::SQLITE_OK {
                return Err(error(db, "bind"));
            }
        }
        Ok(cursor)
    }

    /// The next row, or `None` when the statement is done.
    pub fn step(&mut self) -> Result<Option<RawRow<'_>>, StoreError> {
        // SAFETY: `raw` is live until drop.
        match unsafe { ffi::sqlite3_step(self.raw) } {
            ffi::SQLITE_ROW => Ok(Some(RawRow {
                statement: self.raw,
                _cursor: PhantomData,
            })),
            ffi::SQLITE_DONE => Ok(None),
            _ => Err(error(self.db, "step")),
        }
    }
}

impl Drop for Cursor {
    fn drop(&mut self) {
        // SAFETY: finalized exactly once; no RawRow outlives the borrow that produced it.
        unsafe {
            ffi::sqlite3_finalize(self.raw);
        }
    }
}

/// Runs `statement` and calls `each` per row.
pub fn query(
    db: RawDb,
    statement: &Statement,
    mut each: impl FnMut(&RawRow<'_>),
) -> Result<(), StoreError> {
    let mut cursor = Cursor::prepare(db, statement)?;
    while let Some(row) = cursor.step()? {
        each(&row);
    }
    Ok(())
}

/// Runs statements without results ("BEGIN", "COMMIT").
pub fn execute(db: RawDb, sql: &str) -> Result<(), StoreError> {
    let sql = CString::new(sql).map_err(StoreError::query)?;
    // SAFETY: as in `query`; no callback, no error message buffer kept.
    let rc = unsafe {
        ffi::sqlite3_exec(
            db.0,
            sql.as_ptr(),
            None,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
        )
    };
    if rc == ffi::SQLITE_OK {
        Ok(())
    } else {
        Err(error(db, "execute"))
    }
}
