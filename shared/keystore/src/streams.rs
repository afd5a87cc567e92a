//! Reading the table's stream (filled in below).
