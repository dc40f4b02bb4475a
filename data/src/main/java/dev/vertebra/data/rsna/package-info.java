/** The RSNA 2022 Cervical Spine Fracture Detection layout: CSV files, studies with labels, per-slice targets, 2.5D samples, streaming loader and volume cache. */
package dev.vertebra.data.rsna;
