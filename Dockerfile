# One image for both roles: `npm run web` or `npm run worker` (see docker-compose.yml).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
COPY web ./web
COPY worker ./worker
COPY scripts ./scripts
# The processes run the bundles in dist/ (npm run build), built once here: ignore-scripts makes `npm run web`,
# `worker`, `cli` skip their pre-build at start (the image is read-only to the `node` user anyway).
RUN npm run build
ENV npm_config_ignore_scripts=true
USER node
EXPOSE 3000
CMD ["npm", "run", "web"]
