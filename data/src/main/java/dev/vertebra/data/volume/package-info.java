/** CT volumes: a DICOM series sorted along its slice normal, geometry checks, windowing, resampling, 2.5D stacks, augmentations and segmentation masks mapped through affines. */
package dev.vertebra.data.volume;
