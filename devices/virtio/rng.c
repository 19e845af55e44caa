/* virtio-rng (VIRTIO 1.2, 5.4): the entropy device. Each buffer the driver
 * offers is filled from the host's getrandom(), at most `rate` bytes per
 * second (a token bucket), so a guest cannot drain the host pool. */
#include "devices/device.h"
#include "devices/virtio/virtio.h"
#include "hypervisor/log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/random.h>

#define RNG_QUEUE_SIZE	 64
#define RNG_DEFAULT_RATE (1024 * 1024) /* bytes per second */
#define RNG_REQUEST_MAX	 (64 * 1024)   /* per buffer, whatever the driver offers */
#define RNG_TICK_NS	 10000000ull   /* the bucket refills every 10 ms */

struct rng {
	struct virtio_device *vdev;
	struct evtimer *refill;
	uint64_t rate;	 /* bytes per second, 0 = unlimited */
	uint64_t tokens; /* bytes that may be handed out now */
	uint64_t last_ns;
	bool waiting; /* a refill is armed */
};

static void refill_tokens(struct rng *r)
{
	if (!r->rate)
		return;
	uint64_t now = clock_ns();
	uint64_t add = (now - r->last_ns) * r->rate / 1000000000ull;
	if (add == 0)
		return;
	r->last_ns = now;
	/* At most a tenth of a second's worth piles up. */
	uint64_t cap = r->rate / 10 > RNG_REQUEST_MAX ? r->rate / 10 : RNG_REQUEST_MAX;
	r->tokens = r->tokens + add > cap ? cap : r->tokens + add;
}

/* Fills the writable part of e with up to `max` random bytes. */
static size_t fill(struct virtq_elem *e, size_t max)
{
	size_t done = 0;
	for (unsigned i = 0; i < e->in_num && done < max; i++) {
		size_t want = e->in[i].iov_len < max - done ? e->in[i].iov_len : max - done;
		uint8_t *p = e->in[i].iov_base;
		size_t got = 0;
		while (got < want) {
			ssize_t n = getrandom(p + got, want - got, 0);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0)
				return done + got;
			got += (size_t)n;
		}
		done += got;
	}
	return done;
}

static void rng_serve(struct rng *r)
{
	struct virtq *vq = virtio_queue(r->vdev, 0);
	refill_tokens(r);
	for (;;) {
		if (r->rate && r->tokens == 0) {
			if (!r->waiting) {
				r->waiting = true;
				evtimer_arm(r->refill, RNG_TICK_NS, 0);
			}
			return;
		}
		struct virtq_elem *e;
		if (virtq_pop(vq, &e) <= 0)
			return;
		size_t max = e->in_len < RNG_REQUEST_MAX ? (size_t)e->in_len : RNG_REQUEST_MAX;
		if (r->rate && max > r->tokens)
			max = (size_t)r->tokens;
		size_t n = fill(e, max);
		if (r->rate)
			r->tokens -= n;
		virtq_push(vq, e, (uint32_t)n);
	}
}

static void rng_notify(struct virtio_device *vdev, unsigned qi)
{
	(void)qi;
	rng_serve(virtio_opaque(vdev));
}

static void rng_refill(void *opaque)
{
	struct rng *r = opaque;
	r->waiting = false;
	if (virtq_ready(virtio_queue(r->vdev, 0)) && !virtio_paused(r->vdev))
		rng_serve(r);
}

static const struct virtio_device_ops rng_ops = {
    .queue_notify = rng_notify,
};

static const char *const rng_keys[] = {"rate", VIRTIO_PCI_KEYS, NULL};

static int rng_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	int e = devargs_check_keys(args, "virtio-rng", rng_keys);
	if (e < 0)
		return e;
	struct rng *r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	if (devargs_u64(args, "rate", RNG_DEFAULT_RATE, 1ull << 40, &r->rate) < 0) {
		log_error("%s: rate must be bytes per second (0: unlimited)", id);
		free(r);
		return -EINVAL;
	}
	r->last_ns = clock_ns();
	r->tokens = r->rate ? RNG_REQUEST_MAX : 0;
	r->refill = evtimer_new(m->loop, rng_refill, r);
	if (!r->refill) {
		free(r);
		return -ENOMEM;
	}
	static const struct virtio_device_info info = {
	    .name = "virtio-rng",
	    .device_id = VIRTIO_ID_RNG,
	    .class_code = 0x00ff00, /* unclassified, as QEMU's virtio-rng-pci */
	    .num_queues = 1,
	    .queue_size = RNG_QUEUE_SIZE,
	};
	if ((e = virtio_pci_create(m, id, args, &info, &rng_ops, r, &r->vdev)) < 0) {
		evtimer_free(r->refill);
		free(r);
		return e;
	}
	*state = r;
	return 0;
}

static void rng_reset(void *state)
{
	struct rng *r = state;
	virtio_pci_reset(r->vdev);
}

static void rng_destroy(void *state)
{
	struct rng *r = state;
	virtio_pci_destroy(r->vdev);
	evtimer_free(r->refill);
	free(r);
}

/* Saved state: the transport's alone (every buffer taken is filled and given back at once;
 * the token bucket is the host's and starts full again). */
static void rng_save(void *state, struct vmstate_out *out)
{
	struct rng *r = state;
	virtio_save(r->vdev, out);
}

static int rng_load(void *state, struct vmstate_section *in)
{
	struct rng *r = state;
	int e = virtio_load(r->vdev, in);
	return e < 0 ? e : virtio_load_done(r->vdev, in);
}

/* Paused: no kicks and no refill; going on kicks the queue. */
static void rng_pause(void *state, bool paused)
{
	struct rng *r = state;
	if (paused) {
		virtio_pause(r->vdev, true);
		evtimer_cancel(r->refill);
		r->waiting = false;
		return;
	}
	virtio_pause(r->vdev, false);
}

static const struct device_model rng_model = {
    .name = "virtio-rng",
    .description = "virtio entropy source (PCI; rate=bytes/s, slot=, legacy=, vectors=)",
    .create = rng_create,
    .reset = rng_reset,
    .destroy = rng_destroy,
    .state_version = 1,
    .save = rng_save,
    .load = rng_load,
    .pause = rng_pause,
};
DEVICE_MODEL(rng_model);
