/* Saved state of the ACPI PM registers (acpi-pm) and the PIIX4 PM function
 * that places them: status, enables and control come back, the SCI is
 * raised again, the PM timer goes on from where it stood, and it stands
 * still while the VM is paused; damaged states are refused. */
#include "devices/acpi_pm.h"
#include "devices/pci.h"
#include "hypervisor/platform.h"
#include "tests/devices/chipset_state.h"

#define PM_BASE 0xb000
#define STS	(PM_BASE + ACPI_PM1_STS_OFF)
#define EN	(PM_BASE + ACPI_PM1_EN_OFF)
#define CNT	(PM_BASE + ACPI_PM1_CNT_OFF)
#define TMR	(PM_BASE + ACPI_PM_TMR_OFF)
#define PM_FN	PCI_DEVFN(1, 3)

static void build(struct harness *h)
{
	harness_init(h, 16 << 20);
	harness_add(h, "i440fx", "i440fx", NULL);
	harness_add(h, "piix3", "piix3", NULL);
	harness_add(h, "acpi-pm", "acpi-pm", NULL);
	harness_add(h, "piix4-pm", "piix4-pm", NULL);
}

static void cfg_write(struct harness *h, unsigned reg, uint32_t v, unsigned size)
{
	houtl(h, 0xcf8, 0x80000000u | PM_FN << 8 | (reg & 0xfc));
	if (size == 1)
		houtb(h, (uint16_t)(0xcfc + (reg & 3)), (uint8_t)v);
	else
		houtl(h, 0xcfc, v);
}

/* The timer, which counts modulo 2^24. */
static uint32_t ticks_since(uint32_t from, uint32_t to)
{
	return (to - from) & ((1u << ACPI_PM_TMR_BITS) - 1);
}

/* Moves the block to PM_BASE as SeaBIOS does, enables the power button
 * and the timer's events, sets SLP_TYP and presses the button. */
static void drive(struct harness *h)
{
	cfg_write(h, 0x40, PM_BASE | 1, 4);
	cfg_write(h, 0x80, 1, 1);
	houtw(h, EN, ACPI_PM1_PWRBTN | ACPI_PM1_RTC);
	houtw(h, CNT, 3u << ACPI_PM1_CNT_SLP_TYP_SHIFT | ACPI_PM1_CNT_BM_RLD);
	acpi_pm_power_button(machine_device(&h->m, "acpi-pm"));
	assert_true(h->irq_level[IRQ_SCI]);
}

static void test_round_trip(void **state)
{
	struct harness *a = calloc(1, sizeof(*a)), *b = calloc(1, sizeof(*b));
	build(a);
	drive(a);
	uint32_t before = hinl(a, TMR);
	struct saved s;
	state_save(a, &s);
	harness_fini(a);

	build(b);
	assert_int_equal(hinw(b, STS), 0xffff); /* nothing at PM_BASE yet */
	char err[512];
	assert_int_equal(state_load(b, &s, err, sizeof(err)), 0);
	/* Placed where the guest put it, with the registers as they were. */
	assert_int_equal(hinw(b, STS) & ~ACPI_PM1_TMR, ACPI_PM1_PWRBTN);
	assert_int_equal(hinw(b, EN), ACPI_PM1_PWRBTN | ACPI_PM1_RTC);
	assert_int_equal(hinw(b, CNT), 3u << ACPI_PM1_CNT_SLP_TYP_SHIFT | ACPI_PM1_CNT_BM_RLD |
					   ACPI_PM1_CNT_SCI_EN);
	assert_true(b->irq_level[IRQ_SCI]);
	/* The timer goes on from where it was (not from 0, nor from the
	 * time since this machine was built): well under a second on. */
	uint32_t after = hinl(b, TMR);
	assert_true(ticks_since(before, after) < ACPI_PM_TMR_FREQ);
	harness_run(b, 20);
	assert_true(ticks_since(after, hinl(b, TMR)) >= ACPI_PM_TMR_FREQ / 100);
	/* The guest acknowledges the button: the SCI drops. */
	houtw(b, STS, ACPI_PM1_PWRBTN);
	assert_false(b->irq_level[IRQ_SCI]);
	harness_fini(b);
	state_free(&s);
	free(a);
	free(b);
}

static void test_paused(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	build(h);
	cfg_write(h, 0x40, PM_BASE | 1, 4);
	cfg_write(h, 0x80, 1, 1);
	houtw(h, EN, ACPI_PM1_PWRBTN);
	machine_pause_devices(&h->m, true);
	uint32_t t0 = hinl(h, TMR);
	harness_run(h, 30);
	assert_int_equal(hinl(h, TMR), t0);
	/* A button pressed while paused raises the SCI on resume. */
	acpi_pm_power_button(machine_device(&h->m, "acpi-pm"));
	assert_false(h->irq_level[IRQ_SCI]);
	/* Saved while paused: the standing timer. */
	struct saved s;
	state_save(h, &s);
	machine_pause_devices(&h->m, false);
	assert_true(h->irq_level[IRQ_SCI]);
	uint32_t t1 = hinl(h, TMR);
	assert_true(ticks_since(t0, t1) < ACPI_PM_TMR_FREQ / 100);
	harness_run(h, 20);
	assert_true(ticks_since(t1, hinl(h, TMR)) >= ACPI_PM_TMR_FREQ / 100);
	harness_fini(h);

	state_build_load(h, build, &s);
	assert_true(ticks_since(t0, hinl(h, TMR)) < ACPI_PM_TMR_FREQ / 10);
	assert_true(h->irq_level[IRQ_SCI]);
	harness_fini(h);
	state_free(&s);
	free(h);
}

static void test_refused(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	build(h);
	drive(h);
	struct saved s;
	state_save(h, &s);
	harness_fini(h);
	static const struct state_refusal cases[] = {
	    {"acpi-pm", "sts", 0x0002, "reserved bits"},
	    {"acpi-pm", "en", ACPI_PM1_WAK, "reserved bits"},
	    {"acpi-pm", "cnt", ACPI_PM1_CNT_SLP_EN, "bits other than"},
	    {"acpi-pm", "ticks", 1ull << 60, "above its largest value"},
	    {"acpi-pm", "epoch", 1ull << 40, "above its largest value"},
	};
	state_expect_refusals(h, build, &s, cases, sizeof(cases) / sizeof(cases[0]));
	/* The PIIX4 function's PMBA with its I/O-space bit cleared. */
	struct vmstate_in *in;
	char err[256];
	assert_int_equal(vmstate_in_parse(s.buf, s.len, &in, err, sizeof(err)), 0);
	uint8_t cfg[256];
	assert_int_equal(vmstate_get_bytes(vmstate_section(in, "piix4-pm"), "pci.config", cfg, 256),
			 0);
	vmstate_in_free(in);
	cfg[0x40] &= 0xfe;
	struct saved bad;
	state_edit(&s, "piix4-pm", "pci.config", cfg, sizeof(cfg), &bad);
	build(h);
	state_load_fails(h, &bad, "byte 0x40");
	harness_fini(h);
	state_free(&bad);
	state_free(&s);
	free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_paused),
	    cmocka_unit_test(test_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
