/* PCI MSI-X: capability, vector table, pending bits and delivery through
 * per-vector MSI routes (irqfds where KVM has them). */
#include "devices/msix.h"

#include "hypervisor/bytes.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct msix_vector {
	struct msi_route *route; /* NULL: sent with machine_msi_send */
	struct msi_msg routed;	 /* what the route points at */
	bool has_routed;
};

static const struct bus_ops msix_ops;

static uint64_t pow2_at_least(uint64_t v)
{
	uint64_t p = 4096;
	while (p < v)
		p <<= 1;
	return p;
}

int msix_init(struct msix *x, struct pci_device *d, struct machine *m, unsigned nvec, int bar)
{
	memset(x, 0, sizeof(*x));
	if (nvec == 0 || nvec > MSIX_VECTORS_MAX || bar < 0 || bar >= PCI_BARS)
		return -EINVAL;
	x->pci = d;
	x->m = m;
	x->nvec = nvec;
	x->table_off = 0;
	x->pba_off = ((uint64_t)nvec * MSIX_ENTRY_SIZE + 2047) & ~2047ull;
	x->bar_size = pow2_at_least(x->pba_off + ((nvec + 63) / 64) * 8);
	x->table = calloc(nvec, MSIX_ENTRY_SIZE);
	x->pending = calloc((nvec + 63) / 64, sizeof(uint64_t));
	x->vec = calloc(nvec, sizeof(*x->vec));
	if (!x->table || !x->pending || !x->vec) {
		msix_destroy(x);
		return -ENOMEM;
	}
	pthread_mutex_init(&x->lock, NULL);
	for (unsigned v = 0; v < nvec; v++) {
		/* Without a route (too many in the machine) the vector is
		 * still delivered, with machine_msi_send. */
		if (msi_route_new(m, &x->vec[v].route) < 0)
			x->vec[v].route = NULL;
	}
	struct pci_bar_desc desc = {
	    .size = x->bar_size, .type = PCI_BAR_MEM32, .ops = &msix_ops, .opaque = x};
	int r = pci_bar_init(d, bar, &desc);
	int cap = r < 0 ? r : pci_add_capability(d, PCI_CAP_ID_MSIX, MSIX_CAP_LEN);
	if (cap < 0) {
		msix_destroy(x);
		return cap;
	}
	x->cap = (unsigned)cap;
	pci_cfg_set(d, x->cap + 2, nvec - 1, 2);
	pci_cfg_set(d, x->cap + 4, (uint32_t)x->table_off | (unsigned)bar, 4);
	pci_cfg_set(d, x->cap + 8, (uint32_t)x->pba_off | (unsigned)bar, 4);
	pci_set_wmask(d, x->cap + 3, 1, (MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL) >> 8);
	msix_reset(x);
	return 0;
}

void msix_destroy(struct msix *x)
{
	for (unsigned v = 0; x->vec && v < x->nvec; v++)
		msi_route_free(x->vec[v].route);
	if (x->table)
		pthread_mutex_destroy(&x->lock);
	free(x->table);
	free(x->pending);
	free(x->vec);
	x->table = NULL;
	x->pending = NULL;
	x->vec = NULL;
}

static uint32_t entry_ctrl(struct msix *x, unsigned v)
{
	return get_le32(x->table + v * MSIX_ENTRY_SIZE + 12);
}

static bool masked(struct msix *x, unsigned v)
{
	return !x->enabled || x->maskall || (entry_ctrl(x, v) & MSIX_ENTRY_CTRL_MASK);
}

static struct msi_msg entry_msg(struct msix *x, unsigned v)
{
	const uint8_t *e = x->table + v * MSIX_ENTRY_SIZE;
	return (struct msi_msg){.addr = get_le32(e) | (uint64_t)get_le32(e + 4) << 32,
				.data = get_le32(e + 8)};
}

/* Keeps the vector's route pointing at its table entry. Lock held. */
static void sync_route(struct msix *x, unsigned v)
{
	struct msix_vector *vec = &x->vec[v];
	struct msi_msg msg = entry_msg(x, v);
	if (!vec->route ||
	    (vec->has_routed && vec->routed.addr == msg.addr && vec->routed.data == msg.data))
		return;
	if (msi_route_set(vec->route, msg) < 0 && tracing(TRACE_DEV))
		log_trace("%s: MSI-X vector %u: route update failed", x->pci->name, v);
	vec->routed = msg;
	vec->has_routed = true;
}

/* Lock held; the vector is unmasked. */
static void deliver(struct msix *x, unsigned v)
{
	sync_route(x, v);
	int r = x->vec[v].route ? msi_route_fire(x->vec[v].route)
				: machine_msi_send(x->m, entry_msg(x, v));
	if (r < 0 && r != -ENODEV && tracing(TRACE_DEV))
		log_trace("%s: MSI-X vector %u: %s", x->pci->name, v, strerror(-r));
}

/* After a mask or enable change: pending vectors that are now unmasked
 * are delivered (6.8.2.9). Lock held. */
static void deliver_pending(struct msix *x)
{
	for (unsigned v = 0; v < x->nvec; v++) {
		if (!(x->pending[v / 64] >> (v % 64) & 1) || masked(x, v))
			continue;
		x->pending[v / 64] &= ~(1ull << (v % 64));
		deliver(x, v);
	}
}

void msix_reset(struct msix *x)
{
	pthread_mutex_lock(&x->lock);
	memset(x->table, 0, (size_t)x->nvec * MSIX_ENTRY_SIZE);
	for (unsigned v = 0; v < x->nvec; v++)
		put_le32(x->table + v * MSIX_ENTRY_SIZE + 12, MSIX_ENTRY_CTRL_MASK);
	memset(x->pending, 0, ((x->nvec + 63) / 64) * sizeof(uint64_t));
	x->enabled = x->maskall = false;
	uint16_t ctrl = (uint16_t)pci_cfg_get(x->pci, x->cap + 2, 2);
	pci_cfg_set(x->pci, x->cap + 2, ctrl & ~(MSIX_CTRL_ENABLE | MSIX_CTRL_MASKALL), 2);
	pthread_mutex_unlock(&x->lock);
}

void msix_config_write(struct msix *x, unsigned off, unsigned size)
{
	if (off + size <= x->cap + 2 || off >= x->cap + 4)
		return;
	uint16_t ctrl = (uint16_t)pci_cfg_get(x->pci, x->cap + 2, 2);
	pthread_mutex_lock(&x->lock);
	x->enabled = ctrl & MSIX_CTRL_ENABLE;
	x->maskall = ctrl & MSIX_CTRL_MASKALL;
	deliver_pending(x);
	pthread_mutex_unlock(&x->lock);
}

bool msix_enabled(struct msix *x)
{
	pthread_mutex_lock(&x->lock);
	bool e = x->enabled;
	pthread_mutex_unlock(&x->lock);
	return e;
}

int msix_notify(struct msix *x, unsigned v)
{
	if (v >= x->nvec)
		return -EINVAL;
	pthread_mutex_lock(&x->lock);
	int r = 0;
	if (!x->enabled)
		r = -ENOTSUP;
	else if (masked(x, v))
		x->pending[v / 64] |= 1ull << (v % 64);
	else
		deliver(x, v);
	pthread_mutex_unlock(&x->lock);
	return r;
}

bool msix_pending(struct msix *x, unsigned v)
{
	if (v >= x->nvec)
		return false;
	pthread_mutex_lock(&x->lock);
	bool p = x->pending[v / 64] >> (v % 64) & 1;
	pthread_mutex_unlock(&x->lock);
	return p;
}

uint64_t msix_bar_read(struct msix *x, uint64_t off, unsigned size)
{
	uint64_t table_end = x->table_off + (uint64_t)x->nvec * MSIX_ENTRY_SIZE;
	uint64_t pba_end = x->pba_off + ((x->nvec + 63) / 64) * 8;
	uint8_t buf[8] = {0};
	if (size > 8)
		return 0;
	pthread_mutex_lock(&x->lock);
	if (off >= x->table_off && off + size <= table_end)
		memcpy(buf, x->table + (off - x->table_off), size);
	else if (off >= x->pba_off && off + size <= pba_end)
		for (unsigned i = 0; i < size; i++)
			buf[i] = (uint8_t)(x->pending[(off - x->pba_off + i) / 8] >>
					   ((off - x->pba_off + i) % 8 * 8));
	pthread_mutex_unlock(&x->lock);
	return get_le64(buf);
}

void msix_bar_write(struct msix *x, uint64_t off, uint64_t val, unsigned size)
{
	uint64_t table_end = x->table_off + (uint64_t)x->nvec * MSIX_ENTRY_SIZE;
	/* The PBA is read-only; outside the table nothing is writable. */
	if (size > 8 || off < x->table_off || off + size > table_end)
		return;
	uint64_t rel = off - x->table_off;
	unsigned first = (unsigned)(rel / MSIX_ENTRY_SIZE);
	unsigned last = (unsigned)((rel + size - 1) / MSIX_ENTRY_SIZE);
	uint8_t buf[8];
	put_le(buf, val, 8);
	pthread_mutex_lock(&x->lock);
	bool was_masked[2] = {masked(x, first), masked(x, last)};
	memcpy(x->table + rel, buf, size);
	for (unsigned v = first; v <= last; v++) {
		uint8_t *e = x->table + v * MSIX_ENTRY_SIZE;
		/* Read-only bits: the address is dword aligned, only the mask
		 * bit of vector control is defined. */
		put_le32(e, get_le32(e) & ~3u);
		put_le32(e + 12, get_le32(e + 12) & MSIX_ENTRY_CTRL_MASK);
		if (!masked(x, v)) {
			sync_route(x, v);
			if (was_masked[v - first] && (x->pending[v / 64] >> (v % 64) & 1)) {
				x->pending[v / 64] &= ~(1ull << (v % 64));
				deliver(x, v);
			}
		}
	}
	pthread_mutex_unlock(&x->lock);
}

/* --- saved state ---------------------------------------------------------- */

void msix_save(struct msix *x, struct vmstate_out *out)
{
	pthread_mutex_lock(&x->lock);
	vmstate_put_bytes(out, "msix.table", x->table, (size_t)x->nvec * MSIX_ENTRY_SIZE);
	vmstate_put_bytes(out, "msix.pending", x->pending, ((x->nvec + 63) / 64) * 8);
	pthread_mutex_unlock(&x->lock);
}

int msix_load(struct msix *x, struct vmstate_section *in)
{
	size_t tlen = (size_t)x->nvec * MSIX_ENTRY_SIZE, plen = ((x->nvec + 63) / 64) * 8;
	uint8_t *table = malloc(tlen), *pba = malloc(plen);
	int r = -ENOMEM;
	if (!table || !pba)
		goto out;
	r = vmstate_get_bytes(in, "msix.table", table, tlen);
	if (r == 0)
		r = vmstate_get_bytes(in, "msix.pending", pba, plen);
	if (r < 0)
		goto out;
	/* Bits a guest cannot set are the sign of a damaged file. */
	for (unsigned v = 0; v < x->nvec; v++) {
		const uint8_t *e = table + v * MSIX_ENTRY_SIZE;
		if ((get_le32(e) & 3) || (get_le32(e + 12) & ~(uint32_t)MSIX_ENTRY_CTRL_MASK)) {
			r = vmstate_fail(in, "msix.table: vector %u has reserved bits set", v);
			goto out;
		}
	}
	for (size_t i = x->nvec; i < plen * 8; i++)
		if (pba[i / 8] >> (i % 8) & 1) {
			r = vmstate_fail(in, "msix.pending: bit %zu is past the %u vectors", i,
					 x->nvec);
			goto out;
		}
	/* The control word came back with the configuration (pci_load). */
	uint16_t ctrl = (uint16_t)pci_cfg_get(x->pci, x->cap + 2, 2);
	pthread_mutex_lock(&x->lock);
	memcpy(x->table, table, tlen);
	for (size_t w = 0; w < plen / 8; w++)
		x->pending[w] = get_le64(pba + 8 * w);
	x->enabled = ctrl & MSIX_CTRL_ENABLE;
	x->maskall = ctrl & MSIX_CTRL_MASKALL;
	for (unsigned v = 0; v < x->nvec; v++) {
		x->vec[v].has_routed = false;
		if (!masked(x, v))
			sync_route(x, v);
	}
	/* A vector cannot be both pending and unmasked; if the file says so,
	 * it goes out now, as an unmask would send it. */
	deliver_pending(x);
	pthread_mutex_unlock(&x->lock);
	r = 0;
out:
	free(table);
	free(pba);
	return r;
}

static uint64_t bar_read(void *opaque, uint64_t off, unsigned size)
{
	return msix_bar_read(opaque, off, size);
}

static void bar_write(void *opaque, uint64_t off, uint64_t val, unsigned size)
{
	msix_bar_write(opaque, off, val, size);
}

static const struct bus_ops msix_ops = {.read = bar_read, .write = bar_write};
