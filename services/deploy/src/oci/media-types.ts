/**
 * OCI and Docker v2 schema 2 media types (deploy spec §1.8) and the two families they form. A built image
 * keeps its base's family: a manifest that mixes them is rejected by containers/image (skopeo, CRI-O,
 * Podman), the rule `crane append` follows.
 */
export type MediaTypeFamily = 'oci' | 'docker';

export interface FamilyMediaTypes {
  manifest: string;
  index: string;
  config: string;
  layerGzip: string;
}

export const MEDIA_TYPES: Record<MediaTypeFamily, FamilyMediaTypes> = {
  oci: {
    manifest: 'application/vnd.oci.image.manifest.v1+json',
    index: 'application/vnd.oci.image.index.v1+json',
    config: 'application/vnd.oci.image.config.v1+json',
    layerGzip: 'application/vnd.oci.image.layer.v1.tar+gzip',
  },
  docker: {
    manifest: 'application/vnd.docker.distribution.manifest.v2+json',
    index: 'application/vnd.docker.distribution.manifest.list.v2+json',
    config: 'application/vnd.docker.container.image.v1+json',
    layerGzip: 'application/vnd.docker.image.rootfs.diff.tar.gzip',
  },
};

/** The `Accept` of a manifest GET: every type we read, so no registry down-converts (spec §1.4). */
export const MANIFEST_ACCEPT = [
  MEDIA_TYPES.oci.index,
  MEDIA_TYPES.oci.manifest,
  MEDIA_TYPES.docker.index,
  MEDIA_TYPES.docker.manifest,
].join(', ');

export type ManifestKind = 'manifest' | 'index';

/** The family and kind of a manifest media type, or undefined for one we cannot build on (schema 1, artifacts). */
export function classifyManifest(
  mediaType: string,
): { family: MediaTypeFamily; kind: ManifestKind } | undefined {
  for (const family of ['oci', 'docker'] as const) {
    if (mediaType === MEDIA_TYPES[family].manifest) return { family, kind: 'manifest' };
    if (mediaType === MEDIA_TYPES[family].index) return { family, kind: 'index' };
  }
  return undefined;
}
