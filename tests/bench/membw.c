/* SPDX-License-Identifier: MIT */
/*
 * membw: how fast this machine can merely read the memory a batch of PDQ
 * queries reads in the index (spec/match.md section 5), without comparing
 * anything, in 4 KiB pages: a reference for the search's rate for that
 * batch size, set by the layout of the tables and the machine's memory
 * (built by make bench, run by b0600).  Not a hard ceiling: its reading
 * in huge pages ran 1.3 to 1.6 times as fast, and the search has run
 * faster than it (spec/match.md section 5).
 *
 *   membw N BATCH THREADS RUNS SEED
 *
 * Lays out 16 tables of N entries in 65,536 buckets each (the index of N
 * hashes), an entry's filter bits in two arrays, 8 and 4 bytes (its id,
 * which the search reads only for an entry that passes, is not read), then
 * RUNS times: picks, for each table, the 17 buckets each of BATCH random
 * queries probes at T <= 31 (a random chunk value and its 16 neighbours at
 * one bit), reads the filter bits of every entry of every distinct bucket
 * once, in address order, the bucket after next prefetched whole (as the
 * search does), the tables shared out between THREADS threads.  Prints
 * the bytes read a query and the queries a second (median of the runs).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TABLES 16
#define BUCKETS 65536
#define ENTRY 12 /* bytes read an entry: 8 in f0, 4 in f1 */

struct job {
	const uint64_t *f0;     /* the tables' f0 arrays, one after another */
	const uint32_t *f1;     /* and f1 */
	size_t per;             /* entries a bucket */
	uint32_t *const *b;     /* the buckets of each table, sorted */
	const size_t *nb;
	int first, step;        /* the tables of this thread */
	uint64_t sum;
};

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static uint64_t rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static int u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void prefetch_range(const void *a, const void *z)
{
	for (uintptr_t p = (uintptr_t)a & ~(uintptr_t)63; p < (uintptr_t)z; p += 64)
		__builtin_prefetch((const void *)p);
}

static void *reader(void *arg)
{
	struct job *j = arg;
	uint64_t s = 0;

	for (int t = j->first; t < TABLES; t += j->step) {
		const uint64_t *f0 = j->f0 + (size_t)t * BUCKETS * j->per;
		const uint32_t *f1 = j->f1 + (size_t)t * BUCKETS * j->per;

		for (size_t k = 0; k < j->nb[t]; k++) {
			size_t e = (size_t)j->b[t][k] * j->per;

			/* the bucket after next, whole, as the search does */
			if (k + 2 < j->nb[t]) {
				size_t f = (size_t)j->b[t][k + 2] * j->per;

				prefetch_range(f0 + f, f0 + f + j->per);
				prefetch_range(f1 + f, f1 + f + j->per);
			}

			for (size_t i = e; i < e + j->per; i++)
				s += f0[i] ^ f1[i];
		}
	}
	j->sum = s;
	return NULL;
}

int main(int argc, char **argv)
{
	size_t n, batch, per, ents, bytes = 0;
	int threads, runs;
	uint64_t seed, sum = 0;
	uint64_t *f0;
	uint32_t *f1;
	uint32_t *b[TABLES];
	size_t nb[TABLES];
	double *rate;

	if (argc != 6) {
		fprintf(stderr, "usage: membw N BATCH THREADS RUNS SEED\n");
		return 2;
	}
	n = strtoull(argv[1], NULL, 10);
	batch = strtoull(argv[2], NULL, 10);
	threads = atoi(argv[3]);
	runs = atoi(argv[4]);
	seed = strtoull(argv[5], NULL, 10) * 2654435761u + 1;
	if (n < BUCKETS || !batch || batch > 1000000 || threads < 1 ||
	    threads > TABLES || runs < 1 || runs > 100) {
		fprintf(stderr, "membw: N >= 65536, 1 <= BATCH <= 1000000, 1 <= THREADS <= 16, 1 <= RUNS <= 100\n");
		return 2;
	}
	per = (n + BUCKETS - 1) / BUCKETS;
	ents = (size_t)TABLES * BUCKETS * per;
	f0 = malloc(ents * sizeof(*f0));
	f1 = malloc(ents * sizeof(*f1));
	rate = calloc((size_t)runs, sizeof(*rate));
	for (int t = 0; t < TABLES; t++)
		b[t] = malloc(batch * 17 * sizeof(uint32_t));
	if (!f0 || !f1 || !rate) {
		fprintf(stderr, "membw: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < ents; i++) {
		f0[i] = rnd(&seed);
		f1[i] = (uint32_t)rnd(&seed);
	}
	for (int r = 0; r < runs; r++) {
		pthread_t tid[TABLES];
		struct job j[TABLES];
		double a, z;

		bytes = 0;
		for (int t = 0; t < TABLES; t++) {
			size_t k = 0;

			if (!b[t]) {
				fprintf(stderr, "membw: out of memory\n");
				return 1;
			}
			for (size_t q = 0; q < batch; q++) {
				uint32_t c = (uint32_t)(rnd(&seed) & 0xffff);

				b[t][k++] = c;
				for (int bit = 0; bit < 16; bit++)
					b[t][k++] = c ^ (1u << bit);
			}
			qsort(b[t], k, sizeof(uint32_t), u32_cmp);
			nb[t] = 0;
			for (size_t i = 0; i < k; i++)
				if (!nb[t] || b[t][nb[t] - 1] != b[t][i])
					b[t][nb[t]++] = b[t][i];
			bytes += nb[t] * per * ENTRY;
		}
		a = now();
		for (int i = 0; i < threads; i++) {
			j[i] = (struct job){ f0, f1, per, b, nb, i, threads, 0 };
			if (pthread_create(&tid[i], NULL, reader, &j[i]) != 0) {
				fprintf(stderr, "membw: cannot start a thread\n");
				return 1;
			}
		}
		for (int i = 0; i < threads; i++) {
			pthread_join(tid[i], NULL);
			sum += j[i].sum;
		}
		z = now();
		rate[r] = (double)batch / (z - a);
	}
	qsort(rate, (size_t)runs, sizeof(*rate), dbl_cmp);
	printf("membw: %zu hashes, batches of %zu, %d threads: %.0f bytes a query, %.0f queries/s (median of %d; %.2f GB/s) [%llx]\n",
	       n, batch, threads, (double)bytes / (double)batch,
	       rate[runs / 2], runs, rate[runs / 2] * (double)bytes / (double)batch / 1e9,
	       (unsigned long long)(sum & 0xf));
	for (int t = 0; t < TABLES; t++)
		free(b[t]);
	free(rate);
	free(f0);
	free(f1);
	return 0;
}
