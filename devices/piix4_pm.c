/* PIIX4 power management function (82371AB function 3) at 00:01.3, as
 * QEMU's pc machine pairs it with the PIIX3: its PMBA and PMIOSE registers
 * place the ACPI PM1 register block (the "acpi-pm" device) in I/O space,
 * where the FADT points. The SCI is IRQ 9. There is no SMM: DEVACTB
 * reports the APM controller as already set up, which tells SeaBIOS to
 * leave SMM alone (as QEMU does without SMM). The SMBus is not modelled. */
#include "devices/acpi_pm.h"
#include "devices/device.h"
#include "devices/pci.h"
#include "hypervisor/log.h"
#include "hypervisor/platform.h"
#include "hypervisor/vmstate.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define PIIX4_PMBA	 0x40
#define PIIX4_DEVACTB	 0x58
#define DEVACTB_APMC_EN	 (1u << 25)
#define PIIX4_PMREGMISC	 0x80
#define PMREGMISC_PMIOSE 0x01
#define PIIX4_SMBBA	 0x90
#define PIIX4_SMBHSTCFG	 0xd2

struct piix4_pm {
	struct machine *m;
	struct pci_device pci;
	void *pm; /* the acpi-pm register block */
};

static void place_block(struct piix4_pm *p)
{
	uint16_t base = (uint16_t)(pci_cfg_get(&p->pci, PIIX4_PMBA, 4) & 0xffc0);
	bool on = p->pci.cfg[PIIX4_PMREGMISC] & PMREGMISC_PMIOSE;
	int r = acpi_pm_set_base(p->pm, base, on && base);
	if (r < 0)
		log_warn("piix4-pm: cannot place the PM registers at 0x%x: %s", base, strerror(-r));
}

static void config_write(struct pci_device *d, unsigned off, uint32_t val, unsigned size)
{
	struct piix4_pm *p = d->opaque;
	if ((off < PIIX4_PMBA + 4 && off + size > PIIX4_PMBA) ||
	    (off <= PIIX4_PMREGMISC && off + size > PIIX4_PMREGMISC))
		place_block(p);
}

static const struct pci_device_ops piix4_pm_pci_ops = {.config_write = config_write};

static void reset_registers(struct piix4_pm *p)
{
	pci_cfg_set(&p->pci, PIIX4_PMBA, 0x00000001, 4); /* I/O space indicator */
	pci_cfg_set(&p->pci, PIIX4_DEVACTB, DEVACTB_APMC_EN, 4);
	p->pci.cfg[PIIX4_PMREGMISC] = 0;
	pci_cfg_set(&p->pci, PIIX4_SMBBA, 0x00000001, 4);
	p->pci.cfg[PIIX4_SMBHSTCFG] = 0;
	p->pci.cfg[PCI_INTERRUPT_LINE] = IRQ_SCI;
}

static int piix4_pm_create(struct machine *m, const char *id, const struct devargs *args,
			   void **state)
{
	static const char *const keys[] = {"pm", NULL};
	if (devargs_check_keys(args, "piix4-pm", keys) < 0)
		return -EINVAL;
	const char *pm_id = devargs_get(args, "pm");
	void *pm = machine_device(m, pm_id ? pm_id : "acpi-pm");
	if (!m->pci || !pm) {
		log_error("piix4-pm: needs a PCI bus and an acpi-pm device created first");
		return -ENODEV;
	}
	struct piix4_pm *p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->m = m;
	p->pm = pm;
	pci_device_init(&p->pci, "piix4-pm", 0x8086, 0x7113, 0x068000, 0x03, 0, 0, 1);
	p->pci.ops = &piix4_pm_pci_ops;
	p->pci.opaque = p;
	pci_set_wmask(&p->pci, PIIX4_PMBA, 1, 0xc0);
	pci_set_wmask(&p->pci, PIIX4_PMBA + 1, 1, 0xff);
	pci_set_wmask(&p->pci, PIIX4_DEVACTB, 4, 0xff);
	pci_set_wmask(&p->pci, PIIX4_PMREGMISC, 1, PMREGMISC_PMIOSE);
	pci_set_wmask(&p->pci, PIIX4_SMBBA, 1, 0xf0);
	pci_set_wmask(&p->pci, PIIX4_SMBBA + 1, 1, 0xff);
	pci_set_wmask(&p->pci, PIIX4_SMBHSTCFG, 1, 0x0f);
	reset_registers(p);
	int r = pci_register(m->pci, &p->pci, 1, 3);
	if (r < 0) {
		free(p);
		return r;
	}
	place_block(p);
	*state = p;
	return 0;
}

static void piix4_pm_reset(void *state)
{
	struct piix4_pm *p = state;
	pci_device_reset(&p->pci);
	reset_registers(p);
	place_block(p);
}

static void piix4_pm_destroy(void *state)
{
	struct piix4_pm *p = state;
	pci_unregister(&p->pci);
	free(p);
}

/* Saved state: the configuration space; the PM registers themselves are
 * the acpi-pm device's (created, and so loaded, before this one). */
static void piix4_pm_save(void *state, struct vmstate_out *out)
{
	struct piix4_pm *p = state;
	pci_save(&p->pci, out);
}

static int piix4_pm_load(void *state, struct vmstate_section *in)
{
	struct piix4_pm *p = state;
	int r = pci_load(&p->pci, in);
	if (r < 0)
		return r;
	place_block(p);
	return 0;
}

static const struct device_model piix4_pm_model = {
    .name = "piix4-pm",
    .description = "PIIX4 power management function: places the ACPI PM registers",
    .create = piix4_pm_create,
    .reset = piix4_pm_reset,
    .destroy = piix4_pm_destroy,
    .state_version = 1,
    .save = piix4_pm_save,
    .load = piix4_pm_load,
};
DEVICE_MODEL(piix4_pm_model);
