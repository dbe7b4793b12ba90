/* SPDX-License-Identifier: MIT */
/*
 * membw: how fast this machine can merely read the memory a batch of PDQ
 * queries reads in the index (spec/match.md section 5), without comparing
 * anything: the ceiling of the search's rate for that batch size, set by
 * the layout of the tables and the machine's memory (built by make bench,
 * run by b0600).
 *
 *   membw N BATCH THREADS RUNS SEED
 *
 * Lays out 16 tables of N entries of 16 bytes in 65,536 buckets each (the
 * index of N hashes), then RUNS times: picks, for each table, the 17
 * buckets each of BATCH random queries probes at T <= 31 (a random chunk
 * value and its 16 neighbours at one bit), reads every entry of every
 * distinct bucket once, in address order, the bucket after next prefetched
 * whole (as the search does), the tables shared out between THREADS
 * threads.  Prints the bytes read a query and
 * the queries a second (median of the runs).
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TABLES 16
#define BUCKETS 65536
#define ENTRY 16

struct job {
	const uint8_t *tab;     /* the tables */
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

static void *reader(void *arg)
{
	struct job *j = arg;
	uint64_t s = 0;

	for (int t = j->first; t < TABLES; t += j->step) {
		const uint8_t *tab = j->tab + (size_t)t * BUCKETS * j->per * ENTRY;

		for (size_t k = 0; k < j->nb[t]; k++) {
			const uint64_t *e = (const uint64_t *)(tab + (size_t)j->b[t][k] *
							       j->per * ENTRY);

			/* the bucket after next, whole, as the search does */
			if (k + 2 < j->nb[t]) {
				const uint8_t *f = tab + (size_t)j->b[t][k + 2] * j->per * ENTRY;

				for (size_t o = 0; o < j->per * ENTRY; o += 64)
					__builtin_prefetch(f + o);
			}

			for (size_t i = 0; i < j->per; i++)
				s += e[2 * i] ^ e[2 * i + 1];
		}
	}
	j->sum = s;
	return NULL;
}

int main(int argc, char **argv)
{
	size_t n, batch, per, tabbytes, bytes = 0;
	int threads, runs;
	uint64_t seed, sum = 0;
	uint8_t *tab;
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
	tabbytes = (size_t)TABLES * BUCKETS * per * ENTRY;
	tab = malloc(tabbytes);
	rate = calloc((size_t)runs, sizeof(*rate));
	for (int t = 0; t < TABLES; t++)
		b[t] = malloc(batch * 17 * sizeof(uint32_t));
	if (!tab || !rate) {
		fprintf(stderr, "membw: out of memory\n");
		return 1;
	}
	for (size_t i = 0; i < tabbytes; i += 8) {
		uint64_t v = rnd(&seed);

		memcpy(tab + i, &v, 8);
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
			j[i] = (struct job){ tab, per, b, nb, i, threads, 0 };
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
	free(tab);
	return 0;
}
