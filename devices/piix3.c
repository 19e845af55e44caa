/* PIIX3 PCI-to-ISA bridge (82371SB function 0) at 00:01.0: the PIRQ route
 * control registers that connect PCI INTx links A-D to ISA IRQs (where the
 * in-kernel 8259s and IOAPIC see them), and the bridge's other registers
 * as plain storage. The ELCR ports (0x4d0/0x4d1) are the in-kernel PIC's. */
#include "devices/device.h"
#include "devices/pci.h"
#include "hypervisor/log.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#define PIIX3_PIRQRC   0x60 /* PIRQRC[A-D], 0x60-0x63 */
#define PIRQRC_DISABLE 0x80
#define PIIX3_TOM      0x69
#define PIIX3_MBIRQ0   0x70
#define PIIX3_APICBASE 0x80
#define LINKS	       4

struct piix3 {
	struct machine *m;
	struct pci_device pci;
	pthread_mutex_t lock;
	unsigned asserted[LINKS]; /* devices holding each link's INTx high */
	int irq[LINKS];		  /* the ISA IRQ each link drives, or -1 */
	struct irq_line line[LINKS];
};

/* ISA IRQs a PIRQ may be routed to (PIIX3 datasheet, PIRQRC). */
static bool routable(unsigned irq)
{
	return irq >= 3 && irq != 8 && irq != 13 && irq <= 15;
}

static int route_of(const struct piix3 *p, unsigned link)
{
	uint8_t v = p->pci.cfg[PIIX3_PIRQRC + link];
	if (v & PIRQRC_DISABLE || !routable(v & 0xf))
		return -1;
	return v & 0xf;
}

/* Reconnects link to the IRQ its register names, carrying its level. */
static void reroute(struct piix3 *p, unsigned link)
{
	int irq = route_of(p, link);
	if (irq == p->irq[link])
		return;
	irq_line_release(&p->line[link]);
	p->irq[link] = -1;
	if (irq >= 0 && machine_irq_line(p->m, (unsigned)irq, &p->line[link]) == 0) {
		p->irq[link] = irq;
		irq_line_set(&p->line[link], p->asserted[link] > 0);
	}
}

static void route_intx(void *opaque, uint8_t devfn, unsigned pin, bool level)
{
	struct piix3 *p = opaque;
	unsigned link = pci_slot_pirq(devfn, pin);
	pthread_mutex_lock(&p->lock);
	if (level)
		p->asserted[link]++;
	else if (p->asserted[link])
		p->asserted[link]--;
	if (p->irq[link] >= 0)
		irq_line_set(&p->line[link], p->asserted[link] > 0);
	pthread_mutex_unlock(&p->lock);
}

static void config_write(struct pci_device *d, unsigned off, uint32_t val, unsigned size)
{
	struct piix3 *p = d->opaque;
	if (off < PIIX3_PIRQRC + LINKS && off + size > PIIX3_PIRQRC) {
		pthread_mutex_lock(&p->lock);
		for (unsigned l = 0; l < LINKS; l++)
			reroute(p, l);
		pthread_mutex_unlock(&p->lock);
	}
}

static const struct pci_device_ops piix3_pci_ops = {.config_write = config_write};

static void reset_registers(struct piix3 *p)
{
	uint8_t *c = p->pci.cfg;
	for (unsigned l = 0; l < LINKS; l++)
		c[PIIX3_PIRQRC + l] = PIRQRC_DISABLE;
	c[0x4c] = 0x4d; /* ISA I/O recovery timer */
	c[0x4e] = 0x03; /* X-bus chip select */
	c[PIIX3_TOM] = 0x02;
	c[0x6a] = 0x04;
	c[PIIX3_MBIRQ0] = 0x80;
	c[PIIX3_MBIRQ0 + 1] = 0x80;
	c[0x76] = 0x0c; /* motherboard DMA */
	c[0x77] = 0x0c;
	c[0x78] = 0x02;
	c[0x79] = 0x00;
	c[PIIX3_APICBASE] = 0x00;
	c[0x82] = 0x00;
	c[0xa0] = 0x08;
	c[0xa8] = 0x0f;
}

static int piix3_create(struct machine *m, const char *id, const struct devargs *args, void **state)
{
	static const char *const keys[] = {NULL};
	if (devargs_check_keys(args, "piix3", keys) < 0)
		return -EINVAL;
	if (!m->pci) {
		log_error("piix3: needs a PCI bus (an i440fx host bridge created first)");
		return -ENODEV;
	}
	struct piix3 *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->m = m;
	pthread_mutex_init(&p->lock, NULL);
	for (unsigned l = 0; l < LINKS; l++)
		p->irq[l] = -1;
	pci_device_init(&p->pci, "piix3", 0x8086, 0x7000, 0x060100, 0x00, 0, 0, 0);
	p->pci.ops = &piix3_pci_ops;
	p->pci.opaque = p;
	/* Everything from 0x40 is chipset configuration the guest may set;
	 * only the PIRQ routing has an effect here. */
	pci_set_wmask(&p->pci, 0x40, 0xc0, 0xff);
	pci_set_wmask(&p->pci, PIIX3_PIRQRC, LINKS, 0x8f);
	reset_registers(p);
	int r = pci_register(m->pci, &p->pci, 1, 0);
	if (r < 0) {
		pthread_mutex_destroy(&p->lock);
		free(p);
		return r;
	}
	pci_bus_set_intx_router(m->pci, route_intx, p);
	*state = p;
	return 0;
}

static void piix3_reset(void *state)
{
	struct piix3 *p = state;
	pci_device_reset(&p->pci);
	pthread_mutex_lock(&p->lock);
	reset_registers(p);
	for (unsigned l = 0; l < LINKS; l++)
		reroute(p, l);
	pthread_mutex_unlock(&p->lock);
}

static void piix3_destroy(void *state)
{
	struct piix3 *p = state;
	pci_bus_set_intx_router(p->m->pci, NULL, NULL);
	for (unsigned l = 0; l < LINKS; l++)
		irq_line_release(&p->line[l]);
	pci_unregister(&p->pci);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* Saved state: the configuration space (PIRQ routing and the rest). The
 * links' levels are not saved: each PCI device's pci_load raises its INTx
 * pin again, which counts it here (this bridge is created, and so loaded,
 * before the devices behind it). */
static void piix3_save(void *state, struct vmstate_out *out)
{
	struct piix3 *p = state;
	pci_save(&p->pci, out);
}

static int piix3_load(void *state, struct vmstate_section *in)
{
	struct piix3 *p = state;
	int r = pci_load(&p->pci, in);
	if (r < 0)
		return r;
	pthread_mutex_lock(&p->lock);
	for (unsigned l = 0; l < LINKS; l++)
		reroute(p, l);
	pthread_mutex_unlock(&p->lock);
	return 0;
}

static const struct device_model piix3_model = {
    .name = "piix3",
    .description = "PIIX3 PCI-to-ISA bridge: PCI interrupt (PIRQ) routing",
    .create = piix3_create,
    .reset = piix3_reset,
    .destroy = piix3_destroy,
    .state_version = 1,
    .save = piix3_save,
    .load = piix3_load,
};
DEVICE_MODEL(piix3_model);
