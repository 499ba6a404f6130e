//! The bound on requests in flight per instance, kept in counter rows.

use crate::db::{Db, Dialect, Sql};
use crate::StoreResult;

/// The in-flight count of an instance is kept in counter rows, so that checking the bound costs
/// the same however many requests are in progress. On PostgreSQL an instance has several counter
/// rows ("shards", each with its share of the bound) so that concurrent requests lock different
/// rows and their commits overlap; SQLite runs one write at a time, and one row serves. A request
/// records the shard it took, and its completion gives that slot back.
pub(super) fn in_flight_shards(dialect: Dialect) -> i64 {
    match dialect {
        Dialect::Sqlite => 1,
        Dialect::Postgres => 16,
    }
}
static ENSURE_COUNTER: Sql = Sql::new(
    "INSERT INTO instance_request_counts (instance_id, shard, in_flight) VALUES ($1, $2, 0) ON CONFLICT DO NOTHING",
);
pub(super) static TAKE_SLOT: Sql = Sql::new(
    "UPDATE instance_request_counts SET in_flight = in_flight + 1 WHERE instance_id = $1 AND shard = $2 AND in_flight < $3",
);
/// Gives back $3 slots of one counter row.
pub(super) static RELEASE_SLOTS: Sql = Sql::new(
    "UPDATE instance_request_counts SET in_flight = CASE WHEN in_flight > $3 THEN in_flight - $3 ELSE 0 END
     WHERE instance_id = $1 AND shard = $2",
);
/// Shard `shard`'s share of a bound of `max` spread over `shards` rows; the shares sum to `max`.
pub(super) fn shard_capacity(max: i64, shards: i64, shard: i64) -> i64 {
    max / shards + i64::from(shard < max % shards)
}
/// The shards to try, in order: all of them, starting at one picked from the (random) request id
/// so that concurrent requests start on different rows.
pub(super) fn shard_order(request_id: &str, shards: i64) -> impl Iterator<Item = i64> {
    let start = request_id
        .bytes()
        .fold(0i64, |h, b| (h * 31 + i64::from(b)) % shards);
    (0..shards).map(move |i| (start + i) % shards)
}
/// Takes one in-flight slot of the instance; returns the shard it came from, or None when every
/// shard is at its share of the bound. The conditional increment holds the bound across
/// servers: a shard's row stays locked until commit.
pub(super) async fn take_slot(
    db: &mut Db<'_>,
    instance_id: &str,
    request_id: &str,
    max_in_flight: i64,
) -> StoreResult<Option<i32>> {
    let shards = in_flight_shards(db.dialect());
    if let Some(shard) = try_shards(db, instance_id, request_id, max_in_flight, shards).await? {
        return Ok(Some(shard));
    }
    // An instance's counter rows are made by its first requests (several may race to make them:
    // the losers wait for the winner's rows); then every shard is tried once more.
    for shard in 0..shards {
        let shard = shard as i32;
        db.execute(&ENSURE_COUNTER, &[&instance_id, &shard]).await?;
    }
    try_shards(db, instance_id, request_id, max_in_flight, shards).await
}
async fn try_shards(
    db: &mut Db<'_>,
    instance_id: &str,
    request_id: &str,
    max_in_flight: i64,
    shards: i64,
) -> StoreResult<Option<i32>> {
    for shard in shard_order(request_id, shards) {
        let capacity = shard_capacity(max_in_flight, shards, shard);
        let shard = shard as i32;
        if capacity > 0
            && db
                .execute(&TAKE_SLOT, &[&instance_id, &shard, &capacity])
                .await?
                == 1
        {
            return Ok(Some(shard));
        }
    }
    Ok(None)
}
/// How many slots each counter row gets back, in the rows' order.
pub(super) fn slot_counts(mut released: Vec<(String, i32)>) -> Vec<(String, i32, i64)> {
    released.sort();
    let mut counts: Vec<(String, i32, i64)> = Vec::new();
    for (instance, slot) in released {
        match counts.last_mut() {
            Some((i, s, n)) if *i == instance && *s == slot => *n += 1,
            _ => counts.push((instance, slot, 1)),
        }
    }
    counts
}
#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shard_shares_sum_to_the_bound() {
        for (max, shards) in [(10_000, 16), (5, 16), (1, 1), (17, 16), (0, 4)] {
            let shares: Vec<i64> = (0..shards)
                .map(|s| shard_capacity(max, shards, s))
                .collect();
            assert_eq!(shares.iter().sum::<i64>(), max, "{max} over {shards}");
            assert!(shares.iter().max().unwrap_or(&0) - shares.iter().min().unwrap_or(&0) <= 1);
        }
    }

    #[test]
    fn every_shard_is_tried_once() {
        for id in ["a", "0123456789abcdef0123456789abcdef", ""] {
            let mut order: Vec<i64> = shard_order(id, 16).collect();
            order.sort();
            assert_eq!(order, (0..16).collect::<Vec<_>>());
        }
        assert_eq!(shard_order("x", 1).collect::<Vec<_>>(), vec![0]);
    }
}
