/* KVM interrupt routing and the MSI backend of a partition: the PC's GSI
 * routing with MSI routes beside it, MSIs sent with KVM_SIGNAL_MSI (or, on
 * a KVM without it, through a spare GSI routed to the message), irqfds and
 * ioeventfds. */
#include "hypervisor/kvm_irq.h"

#include "hypervisor/log.h"
#include "hypervisor/msi.h"
#include "hypervisor/platform.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

/* Used to send an MSI where KVM_SIGNAL_MSI is missing: routed to the
 * message, pulsed with KVM_IRQ_LINE. Below the routes' GSIs. */
#define SEND_GSI (MSI_GSI_BASE - 1)

struct kvm_irq {
	struct partition *p;
	bool signal_msi, irqfd, ioeventfd;
	/* The MSI routes last set (for the send fallback's table). */
	unsigned n;
	unsigned *gsis;
	struct msi_msg *msgs;
};

static struct kvm_irq_routing_entry msi_entry(unsigned gsi, struct msi_msg msg)
{
	return (struct kvm_irq_routing_entry){
	    .gsi = gsi,
	    .type = KVM_IRQ_ROUTING_MSI,
	    .u.msi = {.address_lo = (uint32_t)msg.addr,
		      .address_hi = (uint32_t)(msg.addr >> 32),
		      .data = msg.data},
	};
}

/* The PC's routing, as the MADT describes it: ISA IRQs 0-15 go to the
 * 8259 pair and to the IOAPIC pin of the same number, except that IRQ 0
 * (the PIT) reaches IOAPIC pin 2 (the MADT's interrupt source override)
 * and IRQ 2 is the PIC cascade. GSIs 16-23 are IOAPIC-only (PCI). Then the
 * MSI routes, and `extra` (the send fallback's entry) if not NULL. */
static int set_routing(struct kvm_irq *k, const unsigned *gsis, const struct msi_msg *msgs,
		       unsigned nmsi, const struct kvm_irq_routing_entry *extra)
{
	unsigned max = 16 + IOAPIC_PINS + nmsi + 1;
	struct kvm_irq_routing *r = calloc(1, sizeof(*r) + max * sizeof(r->entries[0]));
	if (!r)
		return -ENOMEM;
	unsigned n = 0;
	for (unsigned gsi = 0; gsi < 16; gsi++) {
		if (gsi == 2)
			continue;
		r->entries[n++] = (struct kvm_irq_routing_entry){
		    .gsi = gsi,
		    .type = KVM_IRQ_ROUTING_IRQCHIP,
		    .u.irqchip = {.irqchip =
				      gsi < 8 ? KVM_IRQCHIP_PIC_MASTER : KVM_IRQCHIP_PIC_SLAVE,
				  .pin = gsi % 8},
		};
	}
	for (unsigned gsi = 0; gsi < IOAPIC_PINS; gsi++) {
		if (gsi == 2)
			continue;
		r->entries[n++] = (struct kvm_irq_routing_entry){
		    .gsi = gsi,
		    .type = KVM_IRQ_ROUTING_IRQCHIP,
		    .u.irqchip = {.irqchip = KVM_IRQCHIP_IOAPIC, .pin = gsi == 0 ? 2 : gsi},
		};
	}
	for (unsigned i = 0; i < nmsi; i++)
		r->entries[n++] = msi_entry(gsis[i], msgs[i]);
	if (extra)
		r->entries[n++] = *extra;
	r->nr = n;
	int ret = ioctl(k->p->vm_fd, KVM_SET_GSI_ROUTING, r) < 0 ? -errno : 0;
	free(r);
	return ret;
}

static int backend_set_routes(void *opaque, const unsigned *gsis, const struct msi_msg *msgs,
			      unsigned n)
{
	struct kvm_irq *k = opaque;
	unsigned *g = n ? malloc(n * sizeof(*g)) : NULL;
	struct msi_msg *m = n ? malloc(n * sizeof(*m)) : NULL;
	if (n && (!g || !m)) {
		free(g);
		free(m);
		return -ENOMEM;
	}
	int r = set_routing(k, gsis, msgs, n, NULL);
	if (r < 0) {
		free(g);
		free(m);
		return r;
	}
	if (n) {
		memcpy(g, gsis, n * sizeof(*g));
		memcpy(m, msgs, n * sizeof(*m));
	}
	free(k->gsis);
	free(k->msgs);
	k->gsis = g;
	k->msgs = m;
	k->n = n;
	return 0;
}

/* Called with the hub's lock held (for reading by several senders at
 * once): the fallback's table changes are serialized by the partition's
 * irq_lock. */
static int backend_send(void *opaque, struct msi_msg msg)
{
	struct kvm_irq *k = opaque;
	struct partition *p = k->p;
	if (k->signal_msi) {
		struct kvm_msi m = {.address_lo = (uint32_t)msg.addr,
				    .address_hi = (uint32_t)(msg.addr >> 32),
				    .data = msg.data};
		/* 0: the guest's APIC blocked it; still "sent", as on a bus. */
		return ioctl(p->vm_fd, KVM_SIGNAL_MSI, &m) < 0 ? -errno : 0;
	}
	struct kvm_irq_routing_entry e = msi_entry(SEND_GSI, msg);
	pthread_mutex_lock(&p->irq_lock);
	int r = set_routing(k, k->gsis, k->msgs, k->n, &e);
	if (r == 0) {
		struct kvm_irq_level up = {.irq = SEND_GSI, .level = 1};
		struct kvm_irq_level down = {.irq = SEND_GSI, .level = 0};
		if (ioctl(p->vm_fd, KVM_IRQ_LINE, &up) < 0 ||
		    ioctl(p->vm_fd, KVM_IRQ_LINE, &down) < 0)
			r = -errno;
	}
	pthread_mutex_unlock(&p->irq_lock);
	return r;
}

static int backend_irqfd(void *opaque, unsigned gsi, int fd, bool assign)
{
	struct kvm_irq *k = opaque;
	if (!k->irqfd)
		return -ENOTSUP;
	struct kvm_irqfd f = {
	    .fd = (uint32_t)fd, .gsi = gsi, .flags = assign ? 0 : KVM_IRQFD_FLAG_DEASSIGN};
	if (ioctl(k->p->vm_fd, KVM_IRQFD, &f) < 0) {
		int e = errno;
		if (tracing(TRACE_BOOT))
			log_trace("KVM_IRQFD gsi %u: %s", gsi, strerror(e));
		return -e;
	}
	return 0;
}

static int backend_ioeventfd(void *opaque, const struct ioeventfd *ev, bool assign)
{
	struct kvm_irq *k = opaque;
	if (!k->ioeventfd)
		return -ENOTSUP;
	struct kvm_ioeventfd io = {
	    .datamatch = ev->datamatch ? ev->data : 0,
	    .addr = ev->addr,
	    .len = ev->len,
	    .fd = ev->fd,
	    .flags = (ev->datamatch ? KVM_IOEVENTFD_FLAG_DATAMATCH : 0) |
		     (ev->pio ? KVM_IOEVENTFD_FLAG_PIO : 0) |
		     (assign ? 0 : KVM_IOEVENTFD_FLAG_DEASSIGN),
	};
	if (ioctl(k->p->vm_fd, KVM_IOEVENTFD, &io) < 0) {
		int e = errno;
		if (tracing(TRACE_BOOT))
			log_trace("KVM_IOEVENTFD 0x%llx: %s", (unsigned long long)ev->addr,
				  strerror(e));
		return -e;
	}
	return 0;
}

static const struct msi_backend_ops kvm_msi_ops = {
    .send = backend_send,
    .set_routes = backend_set_routes,
    .irqfd = backend_irqfd,
    .ioeventfd = backend_ioeventfd,
};

/* Whether KVM has the capability and OSIO_KVM_IRQ_OFF (a comma-separated
 * list of "irqfd", "ioeventfd", "signal_msi") does not turn it off: the
 * slow paths can be tested on a KVM that has everything. */
static bool has_cap(int fd, int cap, const char *name)
{
	const char *off = getenv("OSIO_KVM_IRQ_OFF");
	size_t n = strlen(name);
	for (const char *s = off; s && *s;) {
		const char *e = strchr(s, ',');
		size_t len = e ? (size_t)(e - s) : strlen(s);
		if (len == n && strncmp(s, name, n) == 0)
			return false;
		s = e ? e + 1 : s + len;
	}
	return ioctl(fd, KVM_CHECK_EXTENSION, cap) > 0;
}

int kvm_irq_attach(struct partition *p)
{
	struct kvm_irq *k = calloc(1, sizeof(*k));
	if (!k)
		return -ENOMEM;
	k->p = p;
	int fd = p->host->fd;
	k->signal_msi = has_cap(fd, KVM_CAP_SIGNAL_MSI, "signal_msi");
	k->irqfd = has_cap(fd, KVM_CAP_IRQFD, "irqfd");
	k->ioeventfd = has_cap(fd, KVM_CAP_IOEVENTFD, "ioeventfd");
	if (tracing(TRACE_BOOT))
		log_trace("KVM: SIGNAL_MSI %d, IRQFD %d, IOEVENTFD %d", k->signal_msi, k->irqfd,
			  k->ioeventfd);
	int r = set_routing(k, NULL, NULL, 0, NULL);
	if (r < 0) {
		free(k);
		return r;
	}
	msi_set_backend(p->m, &kvm_msi_ops, k);
	return 0;
}

void kvm_irq_detach(struct partition *p)
{
	if (!p->m || !p->m->msi)
		return;
	struct kvm_irq *k = msi_set_backend(p->m, NULL, NULL);
	if (!k)
		return;
	if (k->p != p) {
		/* Another partition's backend: put it back. */
		msi_set_backend(p->m, &kvm_msi_ops, k);
		return;
	}
	free(k->gsis);
	free(k->msgs);
	free(k);
}
