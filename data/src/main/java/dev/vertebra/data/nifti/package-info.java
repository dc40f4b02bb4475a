/** NIfTI-1 images: reading and writing .nii and .nii.gz, headers, datatypes, scaling and affines. */
package dev.vertebra.data.nifti;
