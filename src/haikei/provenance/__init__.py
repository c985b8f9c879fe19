"""Provenance: recipes and render keys, C2PA signing and verification, credits, signing keys.

Modules: ``recipe`` (Recipe, canonical_json, render_key, PNG embedding), ``keys`` (studio test chain,
loading and checking a signing chain), ``c2pa_sign`` (manifests, sign_png, sign_sidecar, verify,
derive_source_type), ``credits`` (build_credits, format_credits). Import them directly; this
package imports nothing so that ``import haikei.provenance`` stays cheap.
"""
