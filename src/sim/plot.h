/* SPDX-License-Identifier: MIT */
/*
 * corral-sim's --plot picture: one row per simulated policy, each with the wait-time
 * distribution (CDF) and the cluster's cpu utilisation over time, on axes shared by all rows
 * so the rows compare at a glance. Written as SVG with svg.h.
 */
#ifndef CORRAL_SIM_PLOT_H
#define CORRAL_SIM_PLOT_H

#include <stddef.h>
#include <stdio.h>

#include "sim/sim.h"

/* Write the chart for results r[0..n) to f; subtitle describes workload and cluster. */
void sim_plot_svg(FILE *f, const struct sim_result *r, size_t n, const char *subtitle);

#endif
