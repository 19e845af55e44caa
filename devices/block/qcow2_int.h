/* The qcow2 driver's shared state and internal interfaces: the header and
 * table layout of QEMU's docs/interop/qcow2.txt, the in-memory tables. */
#ifndef OSIO_QCOW2_INT_H
#define OSIO_QCOW2_INT_H

#include "devices/block/block_driver.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define QCOW2_MAGIC	   0x514649fbu
#define QCOW2_HDR_V2_LEN   72u
#define QCOW2_HDR_V3_LEN   104u
#define QCOW2_HDR_OUR_LEN  112u /* with the compression type byte, padded */
#define QCOW2_MIN_CB	   9u
#define QCOW2_MAX_CB	   21u
#define QCOW2_DEFAULT_CB   16u
#define QCOW2_MAX_L1_BYTES (32u << 20)
#define QCOW2_MAX_RT_BYTES (8u << 20)
#define QCOW2_MAX_SIZE	   (1ull << 56) /* bytes a guest may see */
#define QCOW2_MAX_BACKING  1023u

/* Header offsets. */
#define QH_VERSION	    4
#define QH_BACKING_OFF	    8
#define QH_BACKING_LEN	    16
#define QH_CLUSTER_BITS	    20
#define QH_SIZE		    24
#define QH_CRYPT	    32
#define QH_L1_SIZE	    36
#define QH_L1_OFF	    40
#define QH_RT_OFF	    48
#define QH_RT_CLUSTERS	    56
#define QH_NB_SNAPSHOTS	    60
#define QH_SNAPSHOTS_OFF    64
#define QH_INCOMPAT	    72
#define QH_COMPAT	    80
#define QH_AUTOCLEAR	    88
#define QH_REFCOUNT_ORDER   96
#define QH_HEADER_LEN	    100
#define QH_COMPRESSION_TYPE 104

#define QINCOMPAT_DIRTY	      (1ull << 0)
#define QINCOMPAT_CORRUPT     (1ull << 1)
#define QINCOMPAT_DATA_FILE   (1ull << 2)
#define QINCOMPAT_COMPRESSION (1ull << 3)
#define QINCOMPAT_EXTL2	      (1ull << 4)
#define QINCOMPAT_KNOWN	      (QINCOMPAT_DIRTY | QINCOMPAT_CORRUPT)

#define QEXT_END	   0x00000000u
#define QEXT_BACKING_FMT   0xe2792acau
#define QEXT_FEATURE_NAMES 0x6803f857u
#define QEXT_DATA_FILE	   0x44415441u

/* L1, L2 and refcount table entries. */
#define QE_OFFSET_MASK 0x00fffffffffffe00ull
#define QE_COPIED      (1ull << 63)
#define QE_COMPRESSED  (1ull << 62)
#define QE_ZERO	       1ull
#define QE_L1_RESERVED 0x7f000000000001ffull
#define QE_L2_RESERVED 0x3f000000000001feull
#define QE_RT_MASK     0xfffffffffffffe00ull

/* What a guest cluster is, from its L2 entry. */
enum qcow2_kind {
	QK_UNALLOC,    /* from the backing file, or zeroes */
	QK_ZERO,       /* reads zeroes */
	QK_ZERO_ALLOC, /* reads zeroes; host cluster reserved */
	QK_NORMAL,     /* data at host */
	QK_COMPRESSED, /* deflate stream at host, clen bytes at most */
	QK_BAD,	       /* unaligned, past the end of the file: -EIO */
};

struct qcow2_map {
	enum qcow2_kind kind;
	uint64_t host; /* byte offset */
	uint64_t clen; /* QK_COMPRESSED: bytes the stream may span */
};

struct qcow2_inflight {
	uint64_t gc, n; /* guest clusters [gc, gc + n) */
	struct qcow2_inflight *next;
};

struct qcow2 {
	struct block_dev *bd;
	const char *path;
	int fd;
	bool ro;
	uint32_t version;
	unsigned cb;	    /* cluster bits */
	uint64_t cs;	    /* cluster size */
	unsigned l2_bits;   /* log2 entries per L2 table */
	uint64_t size;	    /* virtual, bytes */
	uint64_t file_size; /* at open, grown by allocation */

	uint64_t incompat, compat, autoclear;
	bool was_dirty;	 /* the dirty bit was set when the image was opened */
	bool dirty_set;	 /* we have set the dirty bit on disk */
	bool broken;	 /* metadata errors found: writes fail with -EIO */
	bool refs_stale; /* the refcounts on disk differ from the counted ones */
	unsigned nb_snapshots;
	uint64_t snapshots_off;
	uint32_t header_len;

	uint64_t l1_off;
	uint32_t l1_size;
	uint64_t *l1;  /* host order */
	uint64_t **l2; /* per L1 entry: the table (host order) once loaded */

	unsigned refcount_order;
	uint64_t refcount_max;
	unsigned rb_bits; /* log2 refcount entries per refcount block */
	uint64_t rt_off;
	uint32_t rt_clusters;
	uint64_t rt_entries;
	uint64_t *rt; /* host order */

	/* Read-write opens: the reference counts of every host cluster, as
	 * counted from the tables at open and kept since. */
	uint32_t *refs;
	uint64_t nrefs; /* clusters the file has (refs beyond are 0) */
	uint64_t refs_cap;
	uint8_t *rb_dirty; /* per refcount block index: to write at close */
	uint64_t rb_dirty_cap;
	bool rt_dirty;
	uint64_t free_hint;
	/* Host clusters no longer referenced, freed once a FLUSH has made that
	 * durable and no in-place I/O that might still target them runs. */
	uint64_t *pending;
	uint64_t npending, pending_cap;
	unsigned inplace; /* in-place data I/O running without the lock */
	/* Guest clusters whose new host clusters are being written without
	 * the lock; other writes to them wait for alloc_done. */
	struct qcow2_inflight *allocating;
	pthread_cond_t alloc_done;

	/* The last compressed cluster read, inflated (sequential reads of a
	 * compressed image inflate each cluster once). */
	uint8_t *zcache;
	uint64_t zcache_host; /* its stream's offset; 0: none */
	uint64_t zcache_gen;  /* bumped when compressed clusters are freed */

	char backing[QCOW2_MAX_BACKING + 1];
	char backing_fmt[64];

	pthread_mutex_t lock;
};

static inline uint64_t q_be64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static inline uint32_t q_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint16_t q_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline void q_put64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (56 - 8 * i));
}

static inline void q_put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (24 - 8 * i));
}

static inline uint64_t q_align_up(uint64_t v, uint64_t a)
{
	return (v + a - 1) & ~(a - 1);
}

/* The number of L1 entries a disk of size bytes needs. */
static inline uint64_t qcow2_l1_needed(unsigned cb, uint64_t size)
{
	unsigned shift = cb + cb - 3;
	return (size + (1ull << shift) - 1) >> shift;
}

/* qcow2.c */
int qcow2_write_header_field(struct qcow2 *q, unsigned off, const void *data, size_t len);
int qcow2_mark_dirty(struct qcow2 *q);
int qcow2_set_incompat(struct qcow2 *q, uint64_t bits);

/* qcow2_io.c */
int qcow2_io(struct block_dev *bd, struct block_req *req);
struct qcow2_map qcow2_decode(const struct qcow2 *q, uint64_t entry);
int qcow2_l2_load(struct qcow2 *q, uint64_t l1i, uint64_t **table);
int qcow2_l2_write(struct qcow2 *q, uint64_t l1i, uint64_t from, uint64_t n);

/* qcow2_refcount.c */
uint64_t qcow2_refcount_get(const uint8_t *block, unsigned order, uint64_t i);
void qcow2_refcount_put(uint8_t *block, unsigned order, uint64_t i, uint64_t v);
int qcow2_refs_reserve(struct qcow2 *q, uint64_t nclusters);
uint64_t qcow2_ref(const struct qcow2 *q, uint64_t cluster);
void qcow2_ref_set(struct qcow2 *q, uint64_t cluster, uint32_t v);
int qcow2_alloc(struct qcow2 *q, uint64_t n, uint64_t *host);
void qcow2_unalloc(struct qcow2 *q, uint64_t host, uint64_t n);
int qcow2_free_later(struct qcow2 *q, uint64_t host, uint64_t bytes);
void qcow2_free_pending(struct qcow2 *q, uint64_t n);
int qcow2_refs_load_disk(struct qcow2 *q, uint32_t **out, uint64_t *nout, struct block_check *res);
int qcow2_refs_writeout(struct qcow2 *q);
void qcow2_mark_all_dirty(struct qcow2 *q);

/* qcow2_check.c */
struct qcow2_walk {
	uint32_t *refs; /* counted references per host cluster */
	uint64_t nrefs;
	uint8_t *kind;	   /* what first used each cluster */
	uint64_t problems; /* bad entries, overlaps */
	uint64_t overflow;
	struct block_check *res; /* NULL: count quietly */
	bool fix;		 /* clear bad L1/L2 entries (repair) */
	uint64_t fixed;
};
int qcow2_walk(struct qcow2 *q, struct qcow2_walk *w);
void qcow2_walk_free(struct qcow2_walk *w);
int qcow2_rebuild(struct qcow2 *q, bool write_now);
int qcow2_check(struct block_dev *bd, bool repair, struct block_check *res);

/* qcow2_create.c */
int qcow2_create(int fd, const char *path, const struct block_create_opts *opts,
		 struct block_dev *parent, char *err, size_t errlen);
int qcow2_resize(struct block_dev *bd, uint64_t size, char *err, size_t errlen);

/* block_set_parent for qcow2 (qcow2_reparent.c). */
int qcow2_set_parent(const char *path, const char *name, struct block_dev *parent, bool force,
		     char *err, size_t errlen);

#endif
