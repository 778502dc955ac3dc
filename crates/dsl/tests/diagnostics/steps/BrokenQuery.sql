SELECT a FROM input WHERE é é
