/*
 * test_bucket.c: token buckets and rate parsing.
 */
#include <criterion/criterion.h>

#include "core/bucket.h"
#include "core/err.h"

Test(bucket, unlimited_is_always_ready)
{
	struct bucket b;

	bucket_init(&b, 0, 1000);
	bucket_take(&b, 1u << 30);
	cr_assert(bucket_ready(&b, 1000));
	cr_assert_eq(bucket_wait_ms(&b, 1000), 0);
}

Test(bucket, limit_holds_over_ten_seconds)
{
	struct bucket b;
	uint64_t moved = 0;

	/* Move 16 KiB blocks whenever allowed, stepping 10 ms at a time:
	 * over 10 s the total must be within 5% of the rate. */
	bucket_init(&b, 100 * 1024, 0);
	for (uint64_t t = 0; t < 10000; t += 10) {
		while (bucket_ready(&b, t)) {
			bucket_take(&b, 16384);
			moved += 16384;
		}
	}
	cr_assert(moved <= 100 * 1024 * 10 * 105 / 100, "moved %lu", moved);
	cr_assert(moved >= 100 * 1024 * 10 * 95 / 100, "moved %lu", moved);
}

Test(bucket, wait_says_when_ready)
{
	struct bucket b;
	uint64_t w;

	bucket_init(&b, 1000, 0);
	bucket_take(&b, 16384 + 1000);
	cr_assert_not(bucket_ready(&b, 0));
	w = bucket_wait_ms(&b, 0);
	cr_assert(w >= 1000 && w <= 1100, "wait %lu", w);
	cr_assert(bucket_ready(&b, w));
}

Test(bucket, set_rate_clamps_burst)
{
	struct bucket b;

	bucket_init(&b, 10u << 20, 0);
	bucket_set_rate(&b, 1024, 0);
	cr_assert(b.tokens <= b.burst);
}

Test(bucket, parse_rates)
{
	uint64_t v;

	cr_assert_eq(bucket_parse_rate("500K", &v), 0);
	cr_assert_eq(v, 500 * 1024);
	cr_assert_eq(bucket_parse_rate("2M", &v), 0);
	cr_assert_eq(v, 2u << 20);
	cr_assert_eq(bucket_parse_rate("1.5m", &v), 0);
	cr_assert_eq(v, 3u << 19);
	cr_assert_eq(bucket_parse_rate("800", &v), 0);
	cr_assert_eq(v, 800);
	cr_assert_eq(bucket_parse_rate("0", &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(bucket_parse_rate("1KB", &v), 0);
	cr_assert_eq(v, 1024);
}

Test(bucket, parse_rejects_garbage)
{
	uint64_t v;

	cr_assert_eq(bucket_parse_rate("", &v), THR_EINVAL);
	cr_assert_eq(bucket_parse_rate("-5K", &v), THR_EINVAL);
	cr_assert_eq(bucket_parse_rate("12Q", &v), THR_EINVAL);
	cr_assert_eq(bucket_parse_rate("K", &v), THR_EINVAL);
	cr_assert_eq(bucket_parse_rate("nan", &v), THR_EINVAL);
	cr_assert_eq(bucket_parse_rate("1e20", &v), THR_EINVAL);
	cr_assert_eq(bucket_parse_rate("5Kx", &v), THR_EINVAL);
}

Test(bucket, format_rates_for_people)
{
	char b[32];

	bucket_format_rate(0, b, sizeof(b));
	cr_expect_str_eq(b, "0 B/s");
	bucket_format_rate(800, b, sizeof(b));
	cr_expect_str_eq(b, "800 B/s");
	bucket_format_rate(512u << 10, b, sizeof(b));
	cr_expect_str_eq(b, "512.0 KiB/s");
	bucket_format_rate(3u << 19, b, sizeof(b));
	cr_expect_str_eq(b, "1.5 MiB/s");
	bucket_format_rate((1u << 20) - 1, b, sizeof(b));
	cr_expect_str_eq(b, "1.0 MiB/s");
	bucket_format_rate(1ull << 30, b, 4);
	cr_expect_str_eq(b, "1.0");
}
