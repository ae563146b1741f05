// Click a figure to open it at full resolution (loaded by steerspace.book.sphinx_ext).
document.addEventListener("DOMContentLoaded", () => {
  document.querySelectorAll(".cell_output img, figure img").forEach((img) => {
    if (img.closest("a")) return;
    const link = document.createElement("a");
    link.href = img.src;
    link.target = "_blank";
    link.rel = "noopener";
    link.className = "steerspace-zoom";
    link.title = "Open the figure at full resolution";
    img.parentNode.insertBefore(link, img);
    link.appendChild(img);
  });
});
