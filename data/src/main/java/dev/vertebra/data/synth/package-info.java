/** Synthetic cervical-spine CT: a seeded phantom with vertebra masks and fractures, written as a complete dataset in the RSNA 2022 layout. */
package dev.vertebra.data.synth;
