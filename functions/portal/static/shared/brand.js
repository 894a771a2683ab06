// Brand name and colours from the served configuration, with our defaults as the fallback.
import { api } from "./http.js";

const COLOURS = {
  primary_colour: "--brand",
  primary_text_colour: "--brand-ink",
  accent_colour: "--accent",
};

/** Applies `config` (brand_name, *_colour, logo_url) to the page; returns the name shown. */
export function applyBrand(config, fallbackName) {
  const name = (config && (config.brand_name || config.name)) || fallbackName;
  for (const node of document.querySelectorAll("[data-brand-name]")) node.textContent = name;
  for (const [key, variable] of Object.entries(COLOURS)) {
    const value = config && config[key];
    // Only real colours: a configured value is never a way to inject other CSS.
    if (typeof value === "string" && CSS.supports("color", value)) {
      document.documentElement.style.setProperty(variable, value);
    }
  }
  const logo = config && config.logo_url;
  for (const node of document.querySelectorAll("img[data-brand-logo]")) {
    if (typeof logo === "string" && /^(https:|data:image\/|static\/)/.test(logo)) {
      node.src = new URL(logo, document.baseURI).toString();
      node.hidden = false;
    }
  }
  document.title = `${name} – ${document.title.split(" – ").pop()}`;
  return name;
}

/** Reads the brand from `path` (the API's config route); the defaults stay if it fails. */
export async function loadBrand(path, fallbackName) {
  let config = {};
  try {
    config = (await api(path)) || {};
  } catch {
    // NOTE: an unreachable or absent config route leaves the default brand in place.
  }
  return { config, name: applyBrand(config, fallbackName) };
}
