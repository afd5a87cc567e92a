//! The table's stream as Lambda's event source mapping reads it (filled in below).
