/* Creating the KVM VM for a machine: KVM's private pages, the in-kernel
 * interrupt controllers and PIT, GSI routing, RAM slots and vCPUs. */
#include "hypervisor/partition.h"

#include "hypervisor/kvm_irq.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"
#include "hypervisor/vp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static void partition_set_irq(void *opaque, unsigned gsi, bool level)
{
	struct partition *p = opaque;
	struct kvm_irq_level irq = {.irq = gsi, .level = level ? 1 : 0};
	pthread_mutex_lock(&p->irq_lock);
	if (p->vm_fd >= 0 && ioctl(p->vm_fd, KVM_IRQ_LINE, &irq) < 0)
		log_warn("KVM_IRQ_LINE %u=%d failed: %s", gsi, level, strerror(errno));
	pthread_mutex_unlock(&p->irq_lock);
}

/* Mirrors the machine's memory map into KVM slots (slot number = region
 * slot). A changed region is removed and added again. */
static void region_set(void *opaque, unsigned slot, const struct mem_region *r)
{
	struct partition *p = opaque;
	struct kvm_userspace_memory_region del = {.slot = slot};
	if (p->slot_mapped[slot] && ioctl(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &del) < 0)
		log_warn("cannot remove KVM memory slot %u: %s", slot, strerror(errno));
	p->slot_mapped[slot] = false;
	if (r->size == 0)
		return;
	struct kvm_userspace_memory_region add = {
	    .slot = slot,
	    .flags = ((r->flags & MEM_READONLY) ? KVM_MEM_READONLY : 0) |
		     ((r->flags & MEM_DIRTY_LOG) ? KVM_MEM_LOG_DIRTY_PAGES : 0),
	    .guest_phys_addr = r->gpa,
	    .memory_size = r->size,
	    .userspace_addr = (uintptr_t)r->hva,
	};
	if (ioctl(p->vm_fd, KVM_SET_USER_MEMORY_REGION, &add) < 0) {
		/* The guest then sees nothing there (accesses exit as MMIO). */
		log_error("cannot map guest memory %s at 0x%llx (%llu KiB): %s", r->name,
			  (unsigned long long)r->gpa, (unsigned long long)(r->size >> 10),
			  strerror(errno));
		p->map_errors++;
		return;
	}
	p->slot_mapped[slot] = true;
}

static int dirty_log(void *opaque, unsigned slot, uint64_t *bitmap)
{
	struct partition *p = opaque;
	if (!p->slot_mapped[slot])
		return -ENOENT;
	struct kvm_dirty_log log = {.slot = slot, .dirty_bitmap = bitmap};
	return ioctl(p->vm_fd, KVM_GET_DIRTY_LOG, &log) < 0 ? -errno : 0;
}

void partition_flush_coalesced(struct partition *p)
{
	struct kvm_coalesced_mmio_ring *ring = p->ring;
	if (!ring || __atomic_load_n(&ring->first, __ATOMIC_ACQUIRE) ==
			 __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE))
		return;
	pthread_mutex_lock(&p->ring_lock);
	while (ring->first != __atomic_load_n(&ring->last, __ATOMIC_ACQUIRE)) {
		struct kvm_coalesced_mmio *e = &ring->coalesced_mmio[ring->first];
		if (e->len <= sizeof(e->data))
			bus_write(e->pio ? p->m->pio : p->m->mmio, e->phys_addr, e->data, e->len);
		__atomic_store_n(&ring->first, (ring->first + 1) % p->ring_max, __ATOMIC_RELEASE);
	}
	pthread_mutex_unlock(&p->ring_lock);
}

static void flush_hook(void *opaque)
{
	partition_flush_coalesced(opaque);
}

/* Registers the machine's coalesced zones; without KVM support for them
 * every write just exits, which is correct, only slower. */
static void setup_coalescing(struct partition *p)
{
	int page = ioctl(p->host->fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_MMIO);
	if (page <= 0 || !p->nvcpus || !p->m->ncoalesced)
		return;
	bool pio_ok = ioctl(p->host->fd, KVM_CHECK_EXTENSION, KVM_CAP_COALESCED_PIO) > 0;
	unsigned done = 0;
	for (unsigned i = 0; i < p->m->ncoalesced; i++) {
		const struct coalesced_zone *z = &p->m->coalesced[i];
		if (z->pio && !pio_ok)
			continue;
		struct kvm_coalesced_mmio_zone zone = {
		    .addr = z->addr, .size = (uint32_t)z->size, .pio = z->pio};
		/* One ioctl for both kinds: zone.pio says which bus. */
		if (ioctl(p->vm_fd, KVM_REGISTER_COALESCED_MMIO, &zone) == 0)
			done++;
		else if (tracing(TRACE_BOOT))
			log_trace("coalescing 0x%llx: %s", (unsigned long long)z->addr,
				  strerror(errno));
	}
	if (!done)
		return;
	size_t pagesize = (size_t)sysconf(_SC_PAGESIZE);
	p->ring = (struct kvm_coalesced_mmio_ring *)((uint8_t *)p->vcpus[0]->run +
						     (size_t)page * pagesize);
	/* KVM_COALESCED_MMIO_MAX, for the host's page size. */
	p->ring_max = (uint32_t)((pagesize - sizeof(struct kvm_coalesced_mmio_ring)) /
				 sizeof(struct kvm_coalesced_mmio));
	p->m->flush_coalesced = flush_hook;
	p->m->flush_opaque = p;
}

int partition_create(struct partition *p, struct kvm_host *host, struct machine *m, unsigned cpus)
{
	memset(p, 0, sizeof(*p));
	p->host = host;
	p->m = m;
	p->vm_fd = -1;
	p->cpus = cpus;
	pthread_mutex_init(&p->irq_lock, NULL);
	pthread_mutex_init(&p->ring_lock, NULL);
	int r;
	if (cpus == 0 || cpus > host->max_vcpus) {
		log_error("%u vCPUs asked for; this KVM allows 1 to %u", cpus, host->max_vcpus);
		return -EINVAL;
	}
	p->vm_fd = ioctl(host->fd, KVM_CREATE_VM, 0);
	if (p->vm_fd < 0) {
		r = -errno;
		log_error("KVM_CREATE_VM failed: %s", strerror(errno));
		goto fail;
	}
	uint64_t idmap = KVM_IDENTITY_MAP_ADDR;
	const char *step = "KVM_SET_IDENTITY_MAP_ADDR";
	if (ioctl(p->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
		goto fail_step;
	step = "KVM_SET_TSS_ADDR";
	if (ioctl(p->vm_fd, KVM_SET_TSS_ADDR, (unsigned long)KVM_TSS_ADDR) < 0)
		goto fail_step;
	step = "KVM_CREATE_IRQCHIP";
	if (ioctl(p->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		goto fail_step;
	if (cpus > 255) {
		/* APIC ids above 254 exist only in x2APIC mode, where KVM must
		 * take 32-bit ids (and not treat id 0xff as broadcast). */
		struct kvm_enable_cap cap = {
		    .cap = KVM_CAP_X2APIC_API,
		    .args[0] =
			KVM_X2APIC_API_USE_32BIT_IDS | KVM_X2APIC_API_DISABLE_BROADCAST_QUIRK,
		};
		step = "KVM_ENABLE_CAP(X2APIC_API) for more than 255 vCPUs";
		if (ioctl(p->vm_fd, KVM_ENABLE_CAP, &cap) < 0)
			goto fail_step;
	}
	/* The in-kernel PIT also serves port 0x61 (speaker gate, OUT2 and the
	 * refresh toggle) so that guests polling it never leave the kernel. */
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};
	step = "KVM_CREATE_PIT2";
	if (ioctl(p->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		goto fail_step;
	/* GSI routing, MSIs, irqfds and ioeventfds (hypervisor/kvm_irq.c). */
	step = "KVM_SET_GSI_ROUTING";
	if ((r = kvm_irq_attach(p)) < 0) {
		errno = -r;
		goto fail_step;
	}
	p->listener =
	    (struct memory_listener){.region_set = region_set, .dirty_log = dirty_log, .opaque = p};
	guestmem_set_listener(&m->mem, &p->listener);
	if (p->map_errors) {
		r = -ENOMEM;
		goto fail;
	}

	p->vcpus = calloc(cpus, sizeof(*p->vcpus));
	if (!p->vcpus) {
		r = -ENOMEM;
		goto fail;
	}
	for (unsigned i = 0; i < cpus; i++) {
		if ((r = vcpu_create(p, i, &p->vcpus[i])) < 0)
			goto fail;
		p->nvcpus++;
	}
	setup_coalescing(p);
	/* Lines devices hold high (a level-triggered interrupt pending
	 * across a reset) reach the new interrupt controllers too. */
	pthread_mutex_lock(&m->irq_lock);
	m->set_irq = partition_set_irq;
	m->irq_opaque = p;
	for (unsigned gsi = 0; gsi < MACHINE_GSIS; gsi++)
		if (m->irq_asserted[gsi])
			partition_set_irq(p, gsi, true);
	pthread_mutex_unlock(&m->irq_lock);
	return 0;

fail_step:
	r = -errno;
	log_error("%s failed: %s", step, strerror(errno));
fail:
	partition_destroy(p);
	return r;
}

void partition_destroy(struct partition *p)
{
	partition_stop(p);
	partition_flush_coalesced(p);
	if (p->m && p->m->flush_opaque == p) {
		p->m->flush_coalesced = NULL;
		p->m->flush_opaque = NULL;
	}
	p->ring = NULL;
	if (p->m && p->m->mem.listener == &p->listener)
		guestmem_set_listener(&p->m->mem, NULL);
	for (unsigned i = 0; i < p->nvcpus; i++)
		vcpu_destroy(p->vcpus[i]);
	free(p->vcpus);
	p->vcpus = NULL;
	p->nvcpus = 0;
	if (p->vm_fd >= 0)
		kvm_irq_detach(p);
	pthread_mutex_lock(&p->irq_lock);
	if (p->vm_fd >= 0)
		close(p->vm_fd);
	p->vm_fd = -1;
	pthread_mutex_unlock(&p->irq_lock);
	if (p->m) {
		pthread_mutex_lock(&p->m->irq_lock);
		if (p->m->irq_opaque == p) {
			p->m->set_irq = NULL;
			p->m->irq_opaque = NULL;
		}
		pthread_mutex_unlock(&p->m->irq_lock);
	}
	pthread_mutex_destroy(&p->irq_lock);
	pthread_mutex_destroy(&p->ring_lock);
}

int partition_start(struct partition *p)
{
	for (unsigned i = 0; i < p->nvcpus; i++) {
		int r = vcpu_start(p->vcpus[i]);
		if (r < 0) {
			partition_stop(p);
			return r;
		}
	}
	return 0;
}

void partition_stop(struct partition *p)
{
	for (unsigned i = 0; i < p->nvcpus; i++)
		vcpu_kick(p->vcpus[i]);
	for (unsigned i = 0; i < p->nvcpus; i++)
		vcpu_join(p->vcpus[i]);
}
