pub struct PgStore;
