/* vrng: the virtio entropy device (VIRTIO 1.2, 5.4) through the modern
 * virtio-pci interface (lib/virtio.c): found on PCI, set up the way Linux
 * does, then entropy read twice: with MSI-X interrupts to the local APIC,
 * then with MSI-X off, waiting on the ISR (the INTx path's status). Runs
 * the same under QEMU TCG with -device virtio-rng-pci. */
#include "../lib/io.h"
#include "../lib/idt.h"
#include "../lib/lapic.h"
#include "../lib/test.h"
#include "../lib/timer.h"
#include "../lib/uart.h"
#include "../lib/virtio.h"

#define VIRTIO_ID_RNG 4
#define QSIZE	      16
#define VEC_CONFIG    0x50
#define VEC_QUEUE     0x51
#define BUFS	      4
#define BUF_LEN	      256

static u8 ring_mem[VIRTQ_MEM_SIZE(QSIZE)] __attribute__((aligned(4096)));
static u8 bufs[BUFS][BUF_LEN] __attribute__((aligned(64)));
static struct virtq q;
static struct virtio_dev dev;
static volatile u32 queue_irqs, config_irqs;

static void on_queue(struct isr_frame *f)
{
	(void)f;
	queue_irqs++;
	lapic_write(LAPIC_EOI, 0);
}

static void on_config(struct isr_frame *f)
{
	(void)f;
	config_irqs++;
	lapic_write(LAPIC_EOI, 0);
}

static bool all_zero(const u8 *p, u32 n)
{
	for (u32 i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

static bool same(const u8 *a, const u8 *b, u32 n)
{
	for (u32 i = 0; i < n; i++)
		if (a[i] != b[i])
			return false;
	return true;
}

/* Offers every buffer, kicks once, and collects the used ones until all
 * are back or the time is up; `wait` waits for the next event. */
static u32 read_entropy(void (*wait)(void), u32 *lens)
{
	for (u32 i = 0; i < BUFS; i++) {
		for (u32 k = 0; k < BUF_LEN; k++)
			bufs[i][k] = 0;
		struct virtq_buf b = {bufs[i], BUF_LEN, true};
		if (virtq_add(&q, &b, 1, 0) < 0)
			return 0;
		lens[i] = 0;
	}
	virtq_kick(&dev, &q);
	u32 done = 0;
	struct timeout t;
	timeout_start(&t, 3000);
	while (done < BUFS && !timeout_expired(&t)) {
		u16 head;
		u32 len;
		while (virtq_get_used(&q, &head, &len)) {
			for (u32 i = 0; i < BUFS; i++)
				if ((uintptr_t)q.desc[head].addr == (uintptr_t)bufs[i])
					lens[i] = len;
			done++;
		}
		if (done < BUFS)
			wait();
	}
	return done;
}

static void wait_irq(void)
{
	u32 before = queue_irqs;
	struct timeout t;
	timeout_start(&t, 100);
	/* Polled with interrupts on: an MSI arrives between two polls. */
	sti();
	while (queue_irqs == before && !timeout_expired(&t))
		pause();
	cli();
}

static volatile u32 isr_seen;

static void wait_isr(void)
{
	struct timeout t;
	timeout_start(&t, 100);
	while (!timeout_expired(&t)) {
		u8 isr = virtio_isr(&dev);
		if (isr & 1) {
			isr_seen++;
			return;
		}
	}
}

static void check_buffers(const char *how, const u32 *lens, u32 done)
{
	check(done == BUFS, "%s: %u of %u buffers came back", how, done, BUFS);
	bool full = true, random = true;
	for (u32 i = 0; i < BUFS; i++) {
		full &= lens[i] == BUF_LEN;
		random &= !all_zero(bufs[i], BUF_LEN);
		for (u32 j = 0; j < i; j++)
			random &= !same(bufs[i], bufs[j], BUF_LEN);
	}
	check(full, "%s: every buffer filled (%u bytes each)", how, BUF_LEN);
	check(random, "%s: the bytes are random (none zero, no two buffers alike)", how);
}

static bool setup(u16 vector)
{
	if (!check(virtio_negotiate(&dev, 0), "features negotiated (VERSION_1), FEATURES_OK kept"))
		return false;
	if (!check(virtio_queue_setup(&dev, &q, 0, QSIZE, ring_mem, vector),
		   "request queue set up (%u entries)", QSIZE))
		return false;
	virtio_driver_ok(&dev);
	return check(virtio_get_status(&dev) == 0x0f,
		     "status ACKNOWLEDGE|DRIVER|FEATURES_OK|DRIVER_OK");
}

void test_main(void)
{
	if (!check(virtio_find(VIRTIO_ID_RNG, 0, &dev), "a virtio entropy device on PCI bus 0"))
		return;
	check(virtio_num_queues(&dev) == 1, "one queue");
	check(dev.msix_table != 0 && dev.msix_size >= 2, "MSI-X with at least 2 vectors");

	/* MSI-X: vector 0 for configuration changes, 1 for the queue. */
	lapic_enable();
	idt_set_handler(VEC_QUEUE, on_queue);
	idt_set_handler(VEC_CONFIG, on_config);
	u8 vectors[2] = {VEC_CONFIG, VEC_QUEUE};
	u32 lens[BUFS];
	if (setup(1)) {
		check(virtio_config_vector(&dev, 0) == 0, "config vector 0 accepted");
		check(virtio_msix_enable(&dev, vectors, 2, lapic_id()), "MSI-X enabled");
		u32 done = read_entropy(wait_irq, lens);
		check_buffers("MSI-X", lens, done);
		/* A fast device is done before we wait: its MSI waits for STI. */
		if (!queue_irqs)
			wait_irq();
		check(queue_irqs >= 1, "queue interrupts arrived by MSI-X");
		check(config_irqs == 0, "no configuration interrupt");
	}

	/* MSI-X off: the device reports through the ISR (the INTx path). */
	virtio_reset(&dev);
	u16 ctrl = pci_read16(dev.pci, dev.msix_cap + 2);
	pci_write16(dev.pci, dev.msix_cap + 2, ctrl & ~0x8000);
	u32 irqs_before = queue_irqs;
	if (setup(VIRTIO_NO_VECTOR)) {
		u32 done = read_entropy(wait_isr, lens);
		check_buffers("ISR", lens, done);
		isr_seen += virtio_isr(&dev) & 1; /* if all were done before a wait */
		check(isr_seen >= 1, "the ISR's queue bit was set");
		check(virtio_isr(&dev) == 0, "reading the ISR cleared it");
		check(queue_irqs == irqs_before, "no MSI with MSI-X off");
	}
	virtio_reset(&dev);
	check(virtio_get_status(&dev) == 0, "reset: status 0");
}
