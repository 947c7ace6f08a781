// Marks the page as able to run GOV.UK Frontend's JavaScript, then starts its
// components. A module, served by the app: the Content-Security-Policy allows
// no inline script.
import { initAll } from "./govuk-frontend.min.js";

document.body.classList.add("govuk-frontend-supported");
initAll();
